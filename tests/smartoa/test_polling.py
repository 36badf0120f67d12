"""Polling many contracts at once: parallel calls, batched writes, failures kept apart."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub import tasks as hub_tasks
from hub.models import AuditEvent, Notification, PollOutcome, PollRun
from smartoa import polling, services, simulator, tasks, versions
from smartoa.client import SmartOAClient
from smartoa.models import (
    Contract,
    ScheduleVersion,
    StopEpisode,
    WebhookDelivery,
    WebhookEndpoint,
)
from smartoa.services import create_contract
from tests.conftest import Tenant, require

from .conftest import paris

# Notices are written in bulk on PostgreSQL only (hub.services.notifications.notify_many);
# elsewhere one by one, so a batch's statements grow with its versions there.
_BULK_ON_POSTGRESQL = "a batch's statement budget holds on PostgreSQL's bulk path"

NOW = paris(2025, 9, 22, 8, 0)
LATER = paris(2025, 9, 22, 9, 35)


@pytest.fixture
def contracts(tenant: Tenant, sim: simulator.SimulatorState) -> list[Contract]:
    made = [
        create_contract(
            organisation=tenant.organisation,
            contract_id=f"BOA-2025-{i:06d}",
            account_id=f"BOA-2025-{i:06d}",
            api_token=simulator.token_for(f"BOA-2025-{i:06d}"),
        )
        for i in range(6)
    ]
    return list(Contract.objects.select_related("organisation").filter(pk__in=[c.pk for c in made]))


def _poll(contracts: list[Contract], client: SmartOAClient, now=NOW, batch_size: int = 4):
    return polling.poll_contracts(
        contracts=contracts, now=now, client=client, threads=3, batch_size=batch_size
    )


def test_first_poll_stores_every_contract_in_batches(
    contracts: list[Contract], oa_client: SmartOAClient
) -> None:
    results = _poll(contracts, oa_client)
    # Written in the order the calls complete, returned in the order asked.
    assert [r.contract_id for r in results] == [c.contract_id for c in contracts]
    assert {r.outcome for r in results} == {"new_version"}
    assert ScheduleVersion.objects.count() == 6
    assert StopEpisode.objects.count() == 6  # the seed's one stop per version
    assert AuditEvent.objects.filter(action="smartoa.schedule.published").count() == 6
    runs = PollRun.objects.filter(source="smartoa")
    assert runs.count() == 6  # one poll run per contract
    assert {(r.outcome, r.items_received, r.items_stored) for r in runs} == {
        (PollOutcome.SUCCESS, 3, 1)
    }
    assert set(Contract.objects.values_list("last_success_at", flat=True)) == {NOW}


def test_unchanged_update_date_writes_only_poll_runs(
    contracts: list[Contract], oa_client: SmartOAClient
) -> None:
    _poll(contracts, oa_client)
    with CaptureQueriesContext(connection) as queries:
        results = _poll(contracts, oa_client, batch_size=100)
    assert {r.outcome for r in results} == {"unchanged"}
    assert ScheduleVersion.objects.count() == 6
    writes = [q["sql"] for q in queries if q["sql"].startswith(("INSERT", "UPDATE"))]
    # One batch: the poll runs in one INSERT, the contracts' timestamps in one UPDATE.
    assert len(writes) == 2, writes


def test_changed_schedule_gets_its_diff_in_a_batch(
    contracts: list[Contract], oa_client: SmartOAClient, sim: simulator.SimulatorState
) -> None:
    _poll(contracts, oa_client)
    sim.clock = lambda: LATER
    results = _poll(contracts, oa_client, now=LATER)
    assert {r.outcome for r in results} == {"new_version"}
    version = ScheduleVersion.objects.filter(contract=contracts[0]).latest("update_date")
    assert version.diff is not None
    assert version.diff["added"] == [
        {"start": "2025-09-22T17:00:00Z", "end": "2025-09-22T18:00:00Z"}
    ]
    assert version.diff["moved"] == [
        {
            "before": {"start": "2025-09-22T09:55:00Z", "end": "2025-09-22T16:00:00Z"},
            "after": {"start": "2025-09-22T09:55:00Z", "end": "2025-09-22T14:00:00Z"},
        }
    ]


def test_one_contract_failing_leaves_the_others_polled(
    contracts: list[Contract], oa_client: SmartOAClient, sim: simulator.SimulatorState
) -> None:
    _poll(contracts, oa_client)
    sim.clock = lambda: LATER
    sim.faults[contracts[2].contract_id] = simulator.MALFORMED
    results = {r.contract_id: r for r in _poll(contracts, oa_client, now=LATER)}
    assert results[contracts[2].contract_id].outcome == "failed"
    assert "not JSON" in results[contracts[2].contract_id].error
    assert sum(r.outcome == "new_version" for r in results.values()) == 5
    # The failing contract keeps its last good schedule.
    assert ScheduleVersion.objects.filter(contract=contracts[2]).count() == 1
    failed = PollRun.objects.get(target=contracts[2].contract_id, outcome=PollOutcome.FAILED)
    assert "not JSON" in failed.error
    contracts[2].refresh_from_db()
    assert (contracts[2].last_polled_at, contracts[2].last_success_at) == (LATER, NOW)


def test_a_batch_that_cannot_commit_is_written_one_by_one(
    contracts: list[Contract], oa_client: SmartOAClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another worker stored the same version of one contract meanwhile: the batch's insert
    # collides, and each contract is then written on its own, through the same writes.
    from django.db import IntegrityError

    real_insert = versions._insert
    calls: list[int] = []

    def collide_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(len(args[0]))
        if len(calls) == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(versions, "_insert", collide_once)
    results = _poll(contracts, oa_client, batch_size=100)
    assert {r.outcome for r in results} == {"new_version"}
    assert calls == [6, 1, 1, 1, 1, 1, 1]
    assert ScheduleVersion.objects.count() == 6
    assert AuditEvent.objects.filter(action="smartoa.schedule.published").count() == 6
    assert PollRun.objects.filter(outcome=PollOutcome.SUCCESS).count() == 6


def test_batch_task_and_fetch_now_store_and_tell_the_same_way(
    tenant: Tenant,
    contracts: list[Contract],
    oa_client: SmartOAClient,
    monkeypatch: pytest.MonkeyPatch,
    mailoutbox,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """One path: a contract polled alone ("fetch now") and contracts polled in a batch get the
    same version, audit event, poll run, notice and webhook delivery."""
    monkeypatch.setattr(tasks, "_client", lambda: oa_client)
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: None)
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="s"
    )
    for contract in contracts:
        services.set_contacts(contract=contract, contacts=[f"{contract.contract_id}@plant.example"])
    alone, *batch = contracts
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_contract(contract_pk=alone.pk) == "new_version"
        assert tasks.poll_contracts(contract_pks=[c.pk for c in batch]) == {"new_version": 5}

    def trail(contract: Contract) -> tuple[object, ...]:
        version = ScheduleVersion.objects.get(contract=contract)
        event = AuditEvent.objects.get(
            action="smartoa.schedule.published", object_id=str(version.pk)
        )
        run = PollRun.objects.get(target=contract.contract_id)
        return (
            version.source,
            version.episodes.count(),
            event.actor_label,
            tuple(sorted(event.after)),
            (run.outcome, run.items_received, run.items_stored),
            WebhookDelivery.objects.filter(version=version).count(),
            Notification.objects.filter(dedupe_key=f"version:{version.pk}").count(),
        )

    assert {trail(c) for c in batch} == {trail(alone)}
    assert trail(alone)[-2:] == (1, 1)
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        f"{c.contract_id.lower()}@plant.example" for c in contracts
    )


def test_fan_out_enqueues_batches_of_the_configured_size(
    contracts: list[Contract],
    settings,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    settings.SMARTOA_POLL_BATCH = 4
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.poll_contracts, "apply_async", lambda **o: sent.append(o))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_due_contracts() == 6
    pks = [c.pk for c in sorted(contracts, key=lambda c: c.pk)]
    claimed_at = Contract.objects.get(pk=pks[0]).claimed_at
    assert claimed_at is not None
    assert sent == [
        {"kwargs": {"contract_pks": pks[:4], "claimed_at": claimed_at.isoformat()}},
        {"kwargs": {"contract_pks": pks[4:], "claimed_at": claimed_at.isoformat()}},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_due_contracts() == 0  # all claimed until their next due time


def test_a_batch_that_outlived_its_claim_leaves_the_contracts_to_the_newer_claim(
    contracts: list[Contract],
    oa_client: SmartOAClient,
    settings,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """A batch still queued when its claim's lease ends is claimed again by the next fan-out
    (the lease is how a dead worker's contracts come back). The first message must then not
    poll them too: each contract is polled once per claim, by the newest claim's message."""
    settings.SMARTOA_POLL_BATCH = 6
    settings.SMARTOA_CLAIM_LEASE_SECONDS = 120
    monkeypatch.setattr(tasks, "_client", lambda: oa_client)
    monkeypatch.setattr(versions, "distribute_all", lambda **kw: None)
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.poll_contracts, "apply_async", lambda **o: sent.append(o))
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_due_contracts() == 6
    with time_machine.travel(NOW + dt.timedelta(seconds=121), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            assert tasks.poll_due_contracts() == 6  # the lease ran out, nothing polled yet
        stale, fresh = (message["kwargs"] for message in sent)
        assert tasks.poll_contracts(**stale) == {"skipped": 6}
        assert PollRun.objects.count() == 0
        assert tasks.poll_contracts(**fresh) == {"new_version": 6}
    assert PollRun.objects.count() == 6
    # A message without a claim (sent before claims were carried) polls as it always did.
    assert tasks.poll_contracts(contract_pks=[contracts[0].pk]) == {"unchanged": 1}


def _fresh_versions(contracts: list[Contract], client: SmartOAClient) -> list[ScheduleVersion]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(versions, "distribute_all", lambda **kw: None)  # stored, not yet told
        _poll(contracts, client)
    return list(
        ScheduleVersion.objects.select_related("contract__organisation").order_by("contract_id")
    )


def test_telling_a_batch_costs_the_same_queries_for_two_or_four_versions(
    tenant: Tenant,
    contracts: list[Contract],
    oa_client: SmartOAClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Telling is per batch: the notices, their dedupe and the deliveries of all the batch's
    versions in a fixed number of statements, not a few per version."""
    require(connection.vendor == "postgresql", _BULK_ON_POSTGRESQL)
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: None)
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="s"
    )
    fresh = _fresh_versions(contracts, oa_client)
    counts = []
    for batch in (fresh[:2], fresh[2:]):
        with CaptureQueriesContext(connection) as queries:
            versions.distribute_all(versions=batch, now=NOW)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert Notification.objects.filter(source="smartoa").count() == 6
    assert WebhookDelivery.objects.count() == 6


def test_a_notice_that_fails_touches_no_other_version_of_the_batch(
    contracts: list[Contract],
    oa_client: SmartOAClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A failing notice is logged and the batch's other versions are still told."""
    from smartoa import notices

    fresh = _fresh_versions(contracts, oa_client)
    broken = fresh[2]
    real = notices.stop_notice

    def stop_notice(*, version: ScheduleVersion, link: str):  # type: ignore[no-untyped-def]
        if version.pk == broken.pk:
            raise RuntimeError("template broken")
        return real(version=version, link=link)

    monkeypatch.setattr(notices, "stop_notice", stop_notice)
    versions.distribute_all(versions=fresh, now=NOW)
    told = set(Notification.objects.filter(source="smartoa").values_list("dedupe_key", flat=True))
    assert told == {f"version:{v.pk}" for v in fresh if v.pk != broken.pk}


def test_a_batch_costs_the_same_statements_for_two_or_four_contracts(
    tenant: Tenant,
    contracts: list[Contract],
    oa_client: SmartOAClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch is written "in one transaction: one query finds the versions already known, new
    versions and their episodes are bulk-inserted, the poll runs are bulk-inserted", and its new
    versions are told of together (smartoa.polling): the statements of a batch, first poll
    (a new version each, with its notice and delivery) or steady state, do not grow with it."""
    require(connection.vendor == "postgresql", _BULK_ON_POSTGRESQL)
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: None)
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="s"
    )
    counts: dict[str, list[int]] = {"first": [], "steady": []}
    for phase in counts:
        for batch in (contracts[:2], contracts[2:]):
            with CaptureQueriesContext(connection) as queries:
                results = _poll(batch, oa_client, batch_size=100)
            counts[phase].append(len(queries))
            assert {r.outcome for r in results} == {
                "new_version" if phase == "first" else "unchanged"
            }
    assert counts["first"][0] == counts["first"][1], counts
    assert counts["steady"][0] == counts["steady"][1], counts
    # The stored stops are handed to the notices, not loaded back; each version told once.
    assert counts["first"][0] <= 18, counts
    assert counts["steady"][0] <= 6, counts
    assert Notification.objects.filter(source="smartoa").count() == 6
    assert WebhookDelivery.objects.count() == 6
    assert AuditEvent.objects.filter(action="smartoa.schedule.published").count() == 6
