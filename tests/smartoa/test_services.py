from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection

from hub.models import AuditEvent, PollOutcome, PollRun
from smartoa import polling, selectors, services, simulator, tasks
from smartoa.client import SmartOAClient
from smartoa.models import Contract, ScheduleVersion

from .conftest import CONTRACT_ID, paris, wsgi_transport

NOW = paris(2025, 9, 22, 8, 0)


def _poll(contract: Contract, client: SmartOAClient, now: dt.datetime = NOW) -> services.PollResult:
    return polling.poll_contract(contract=contract, now=now, client=client)


def test_first_poll_stores_the_seed_like_version(
    contract: Contract, oa_client: SmartOAClient
) -> None:
    result = _poll(contract, oa_client)
    assert result.outcome == "new_version"
    version = result.version
    assert version is not None
    assert version.application_date == dt.date(2025, 9, 22)
    assert version.update_date == paris(2025, 9, 21, 12, 55, 5)
    assert version.diff is None
    assert json.loads(version.raw_body)["id"] == CONTRACT_ID
    assert [(e.start, e.end) for e in version.episodes.all()] == [
        (paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    ]
    run = PollRun.objects.get(source="smartoa", target=CONTRACT_ID)
    assert (run.outcome, run.items_received, run.items_stored) == (PollOutcome.SUCCESS, 3, 1)
    contract.refresh_from_db()
    assert contract.last_success_at == NOW


def test_same_update_date_is_not_stored_twice(contract: Contract, oa_client: SmartOAClient) -> None:
    _poll(contract, oa_client)
    again = _poll(contract, oa_client, NOW + dt.timedelta(minutes=5))
    assert again.outcome == "unchanged"
    assert ScheduleVersion.objects.count() == 1
    assert PollRun.objects.filter(items_stored=0, outcome=PollOutcome.SUCCESS).count() == 1


def test_changed_schedule_makes_a_version_with_its_diff(
    contract: Contract, oa_client: SmartOAClient, sim: simulator.SimulatorState
) -> None:
    _poll(contract, oa_client)
    sim.clock = lambda: paris(2025, 9, 22, 9, 35)
    result = _poll(contract, oa_client, paris(2025, 9, 22, 9, 35))
    assert result.outcome == "new_version"
    assert result.version is not None
    assert result.version.update_date == paris(2025, 9, 22, 9, 30)
    assert result.version.diff == {
        "added": [{"start": "2025-09-22T17:00:00Z", "end": "2025-09-22T18:00:00Z"}],
        "removed": [],
        "moved": [
            {
                "before": {"start": "2025-09-22T09:55:00Z", "end": "2025-09-22T16:00:00Z"},
                "after": {"start": "2025-09-22T09:55:00Z", "end": "2025-09-22T14:00:00Z"},
            }
        ],
        "unchanged": 0,
    }
    versions = selectors.versions_of_day(contract=contract, day=dt.date(2025, 9, 22))
    assert [v.update_date.hour for v in versions] == [10, 7]  # UTC: 12:55 the day before, 09:30
    assert selectors.latest_version(contract=contract, day=dt.date(2025, 9, 22)) == result.version


def test_audit_records_versions_and_credentials_without_the_token(
    contract: Contract, oa_client: SmartOAClient
) -> None:
    _poll(contract, oa_client)
    services.set_credentials(
        contract=contract, account_id=CONTRACT_ID, api_token="new-secret-token", auth_scheme="basic"
    )
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        "smartoa.contract.created",
        "smartoa.schedule.published",
        "smartoa.contract.credentials_changed",
    ]
    dumped = json.dumps(list(AuditEvent.objects.values("before", "after", "object_repr")))
    assert "new-secret-token" not in dumped
    assert simulator.token_for(CONTRACT_ID) not in dumped


@pytest.mark.parametrize("fault", [simulator.MALFORMED, simulator.INVALID])
def test_bad_answer_fails_the_run_and_keeps_the_last_good_schedule(
    contract: Contract, oa_client: SmartOAClient, sim: simulator.SimulatorState, fault: str
) -> None:
    good = _poll(contract, oa_client).version
    sim.clock = lambda: paris(2025, 9, 22, 9, 35)
    sim.faults[CONTRACT_ID] = fault
    result = _poll(contract, oa_client, paris(2025, 9, 22, 9, 35))
    assert result.outcome == "failed"
    assert "SmartOAResponseError" in result.error
    run = PollRun.objects.order_by("-started_at").first()
    assert run is not None and run.outcome == PollOutcome.FAILED
    assert "invalid Smart OA answer" in run.error
    assert ScheduleVersion.objects.count() == 1
    assert selectors.latest_version(contract=contract, day=dt.date(2025, 9, 22)) == good
    contract.refresh_from_db()
    assert contract.last_polled_at == paris(2025, 9, 22, 9, 35)
    assert contract.last_success_at == NOW


def test_refused_address_fails_the_run(
    contract: Contract, sim: simulator.SimulatorState, in_process_wsgi: None
) -> None:
    with SmartOAClient(transport=wsgi_transport("203.0.113.5")) as client:
        result = _poll(contract, client)
    assert result.outcome == "failed"
    assert "403" in result.error
    assert not ScheduleVersion.objects.exists()


def test_token_is_encrypted_at_rest(contract: Contract) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_token FROM smartoa_contract WHERE id = %s", [contract.pk])
        stored = cursor.fetchone()[0]
    assert simulator.token_for(CONTRACT_ID) not in stored
    assert Contract.objects.get(pk=contract.pk).api_token == simulator.token_for(CONTRACT_ID)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"contract_id": "B"}, "contract_id"),
        ({"contract_id": "BOA 12 é"}, "contract_id"),
        ({"api_token": "  "}, "api_token"),
        ({"poll_interval": 5}, "poll_interval"),
    ],
)
def test_create_contract_refuses_bad_input(tenant, changes: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    arguments = {
        "organisation": tenant.organisation,
        "contract_id": "BOA-1",
        "account_id": "BOA-1",
        "api_token": "t",
        **changes,
    }
    with pytest.raises(services.ContractSpecError) as caught:
        services.create_contract(**arguments)
    assert caught.value.field == field


def test_contract_id_is_unique_per_organisation(tenant, foreign, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(services.ContractSpecError):
        services.create_contract(
            organisation=tenant.organisation, contract_id=CONTRACT_ID, account_id="", api_token="t"
        )
    other = services.create_contract(
        organisation=foreign.organisation, contract_id=CONTRACT_ID, account_id="", api_token="t"
    )
    assert other.account_id == CONTRACT_ID


def test_claim_due_contracts_moves_them_forward(tenant, contract: Contract) -> None:  # type: ignore[no-untyped-def]
    later = services.create_contract(
        organisation=tenant.organisation, contract_id="BOA-LATER", account_id="", api_token="t"
    )
    off = services.create_contract(
        organisation=tenant.organisation,
        contract_id="BOA-OFF",
        account_id="",
        api_token="t",
        enabled=False,
    )
    Contract.objects.filter(pk=later.pk).update(next_poll_at=NOW + dt.timedelta(minutes=1))
    assert services.claim_due_contracts(now=NOW) == [contract.pk]
    contract.refresh_from_db()
    assert contract.next_poll_at == NOW + dt.timedelta(seconds=300)
    assert services.claim_due_contracts(now=NOW) == []
    assert services.claim_due_contracts(now=NOW + dt.timedelta(minutes=2)) == [later.pk]
    assert off.pk not in services.claim_due_contracts(now=NOW + dt.timedelta(days=1))


def test_fan_out_enqueues_after_commit(
    contract: Contract,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.poll_contracts, "apply_async", lambda **options: sent.append(options))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.poll_due_contracts() == 1
    assert sent == []  # nothing leaves before the claim is committed
    for callback in callbacks:
        callback()
    contract.refresh_from_db()
    assert contract.claimed_at is not None
    assert sent == [
        {"kwargs": {"contract_pks": [contract.pk], "claimed_at": contract.claimed_at.isoformat()}}
    ]


def test_poll_task_polls_one_contract(
    contract: Contract, oa_client: SmartOAClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks, "_client", lambda: oa_client)
    assert tasks.poll_contract(contract_pk=contract.pk) == "new_version"
    Contract.objects.filter(pk=contract.pk).update(enabled=False)
    assert tasks.poll_contract(contract_pk=contract.pk) == "skipped"


def test_poll_tasks_are_routed_to_the_smartoa_queue() -> None:
    from hub.celery import app

    for task in (tasks.poll_contract, tasks.poll_contracts, tasks.poll_due_contracts):
        assert app.amqp.router.route({}, task.name)["queue"].name == "smartoa"


def test_poll_command(
    contract: Contract,
    sim: simulator.SimulatorState,
    in_process_wsgi: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from smartoa.management.commands import smartoa_poll

    monkeypatch.setattr(
        smartoa_poll, "SmartOAClient", lambda: SmartOAClient(transport=wsgi_transport())
    )
    sim.clock = lambda: dt.datetime.now(dt.UTC)
    call_command("smartoa_poll", "--contract", CONTRACT_ID)
    out = capsys.readouterr().out
    assert f"acme {CONTRACT_ID}: new_version" in out
    assert ScheduleVersion.objects.filter(contract=contract).count() == 1


@pytest.mark.django_db
def test_seed_demo_contract_polls_the_simulator(oa_client: SmartOAClient) -> None:
    from hub.demo import seed_demo

    seed_demo(today=dt.date(2025, 9, 22))
    call_command("smartoa_seed_demo")
    call_command("smartoa_seed_demo")  # idempotent
    [demo] = Contract.objects.filter(organisation__slug="demo")
    assert demo.metering_point is not None and demo.metering_point.kind == "oa_site"
    assert _poll(demo, oa_client).outcome == "new_version"


def test_a_claim_whose_worker_died_is_claimed_again_after_its_lease(
    tenant, contract: Contract, settings
) -> None:  # type: ignore[no-untyped-def]
    """A worker killed mid-batch (kill -9) polls nothing; its claimed contracts must be polled
    again within a fan-out cycle or two. Finding: "the claimed contracts polled again within
    one cycle rather than waiting for the next poll time"."""
    settings.SMARTOA_CLAIM_LEASE_SECONDS = 120
    Contract.objects.filter(pk=contract.pk).update(poll_interval=3600)
    assert services.claim_due_contracts(now=NOW) == [contract.pk]
    assert services.claim_due_contracts(now=NOW + dt.timedelta(seconds=60)) == []
    # Lease over, never polled: claimed again, and the claim is renewed.
    assert services.claim_due_contracts(now=NOW + dt.timedelta(seconds=121)) == [contract.pk]
    assert services.claim_due_contracts(now=NOW + dt.timedelta(seconds=180)) == []
    # Polled after its claim: it waits for its next poll time.
    Contract.objects.filter(pk=contract.pk).update(last_polled_at=NOW + dt.timedelta(seconds=130))
    assert services.claim_due_contracts(now=NOW + dt.timedelta(seconds=400)) == []
    assert services.claim_due_contracts(now=NOW + dt.timedelta(seconds=3721)) == [contract.pk]
