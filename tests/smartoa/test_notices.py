"""E-mail notices of new or changed stops to the contract's contacts, and the demo contract."""

from __future__ import annotations

import datetime as dt

import pytest

from hub import tasks as hub_tasks
from hub.models import Notification
from smartoa import notices, services, simulator, versions
from smartoa.client import SmartOAClient
from smartoa.models import Contract
from smartoa.polling import poll_contract
from smartoa.services import ContractSpecError

from .conftest import paris

NOW = paris(2025, 9, 22, 8, 0)


@pytest.fixture
def no_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: None)


def test_new_and_changed_stops_mail_the_contacts(
    contract: Contract,
    oa_client: SmartOAClient,
    sim: simulator.SimulatorState,
    mailoutbox,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
    no_webhooks: None,
) -> None:
    services.set_contacts(
        contract=contract, contacts=["Exploit@Plant.example ", "astreinte@plant.example"]
    )
    with django_capture_on_commit_callbacks(execute=True):
        first = poll_contract(contract=contract, now=NOW, client=oa_client)
        assert first.outcome == "new_version"
        sim.clock = lambda: paris(2025, 9, 22, 9, 35)
        changed = poll_contract(contract=contract, now=paris(2025, 9, 22, 9, 35), client=oa_client)
        assert changed.version is not None
        # Polled again: the version is known, nothing is stored or told twice.
        again = poll_contract(contract=contract, now=paris(2025, 9, 22, 9, 40), client=oa_client)
        assert again.outcome == "unchanged"
        versions.distribute(version=changed.version, now=paris(2025, 9, 22, 9, 41))
    assert len(mailoutbox) == 2
    assert mailoutbox[0].to == ["astreinte@plant.example", "exploit@plant.example"]
    assert "Arrêt Smart OA : BOA-2025-000042 le 22/09/2025" in mailoutbox[0].subject
    assert "22/09/2025 11:55 → 22/09/2025 18:00" in mailoutbox[0].body
    assert "modifié" in mailoutbox[1].subject
    assert (
        "Ajoutés" in mailoutbox[1].body
        and "22/09/2025 19:00 → 22/09/2025 20:00" in mailoutbox[1].body
    )
    assert f"/smartoa/contracts/{contract.contract_id}/" in mailoutbox[1].body
    assert Notification.objects.filter(source="smartoa").count() == 2


def test_version_without_stop_change_is_not_noticed(
    contract: Contract,
    oa_client: SmartOAClient,
    mailoutbox,  # type: ignore[no-untyped-def]
) -> None:
    result = poll_contract(contract=contract, now=NOW, client=oa_client)
    assert result.version is not None
    result.version.diff = {"added": [], "removed": [], "moved": [], "unchanged": 1}
    assert notices.notify_contacts(version=result.version, now=NOW) is None
    assert mailoutbox == []


def test_contacts_are_validated_and_audited(contract: Contract) -> None:
    with pytest.raises(ContractSpecError) as refused:
        services.set_contacts(contract=contract, contacts=["not-an-address"])
    assert refused.value.field == "contacts"
    services.set_contacts(contract=contract, contacts=["a@b.example"])
    from hub.models import AuditEvent

    event = AuditEvent.objects.get(action="smartoa.contract.contacts_changed")
    assert event.after == {"contacts": ["a@b.example"]}


@pytest.mark.django_db
def test_seed_demo_gives_the_demo_organisation_its_contract(oa_client: SmartOAClient) -> None:
    from hub.demo import seed_demo

    seed_demo(today=dt.date(2025, 9, 22))
    seed_demo(today=dt.date(2025, 9, 23))  # idempotent
    [demo] = Contract.objects.filter(organisation__slug="demo")
    assert demo.api_token == simulator.token_for(demo.contract_id)
    assert poll_contract(contract=demo, now=NOW, client=oa_client).outcome == "new_version"


def test_admin_form_edits_the_contacts(contract: Contract) -> None:
    from smartoa.admin import ContractForm

    data = {
        "organisation": contract.organisation_id,
        "contract_id": contract.contract_id,
        "account_id": contract.account_id,
        "auth_scheme": contract.auth_scheme,
        "enabled": "on",
        "poll_interval": 300,
        "contacts_text": "Ops@Plant.example\nops@plant.example\nnight@plant.example",
    }
    form = ContractForm(data=data, instance=contract)
    assert form.is_valid(), form.errors
    form.save()
    contract.refresh_from_db()
    assert contract.contacts == ["night@plant.example", "ops@plant.example"]
    assert "\n".join(contract.contacts) == ContractForm(instance=contract)["contacts_text"].initial
    bad = ContractForm(data={**data, "contacts_text": "nope"}, instance=contract)
    assert not bad.is_valid() and "contacts_text" in bad.errors


def test_stop_on_the_25_hour_night_is_told_with_its_offsets(contract: Contract) -> None:
    """25/10/2026, Paris falls back from 03:00 CEST to 02:00 CET: a stop 00:30Z-01:30Z runs
    from 02:30 (UTC+2) to 02:30 (UTC+1). The e-mail and the webhook's text must say so, not
    « 02:30 → 02:30 »."""
    import json

    from smartoa import webhooks
    from smartoa.client import parse_schedule

    start, end = "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"
    body = {
        "id": contract.contract_id,
        "update_date": "2026-10-24T12:55:05+02:00",
        "application_date": "2026-10-25",
        "data": [
            {"start_date": "2026-10-25T00:00:00+02:00", "end_date": start, "value": 0.0},
            {"start_date": start, "end_date": end, "value": 1.0},
            {"start_date": end, "end_date": "2026-10-26T00:00:00+01:00", "value": 0.0},
        ],
    }
    version, _created = services.record_schedule(
        contract=contract,
        schedule=parse_schedule(json.dumps(body), expected_id=contract.contract_id),
        fetched_at=paris(2026, 10, 24, 13, 0),
    )
    told = "25/10/2026 02:30 (UTC+2) → 25/10/2026 02:30 (UTC+1)"
    assert told in notices.body_of(version)
    payload = webhooks.payload_for(version)
    assert told in payload["text"]
    assert payload["episodes"] == [
        {
            "start": "2026-10-25T00:30:00+00:00",
            "end": "2026-10-25T01:30:00+00:00",
            "start_local": start,
            "end_local": end,
        }
    ]


@pytest.mark.parametrize("contract_id", ["BOA-2024-000123", "OA 12:3", "é0~x.y_z"])
def test_batch_links_are_those_of_reverse(contract_id: str) -> None:
    """The batch formats each id into one reversed link; it must equal reverse() for any id."""
    from django.urls import reverse

    link = notices.contract_links()
    assert link(contract_id) == reverse("smartoa_portal:contract", args=[contract_id])
