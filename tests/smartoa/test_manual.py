"""A day's schedule entered by hand when the API is down: a version marked manual, audited, told.

Seed (webinar EDF OA, « Parcours utilisateur », 3): « Je souhaite récupérer manuellement le
signal via le portail web Smart OA », next to « J'utilise l'API Smart OA pour récupérer le
signal »; the example answer's stop is 11:55-18:00 on 2025-09-22, published 2025-09-21 12:55:05.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from hub import tasks as hub_tasks
from hub.models import AuditEvent, Notification
from smartoa import manual, selectors, simulator, views
from smartoa.client import SmartOAClient
from smartoa.models import (
    Contract,
    ScheduleVersion,
    VersionSource,
    WebhookDelivery,
    WebhookEndpoint,
)
from smartoa.polling import poll_contract
from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in

from .conftest import CONTRACT_ID, SEED_BODY, paris

NOW = paris(2025, 9, 22, 8, 0)
URL = f"/smartoa/contracts/{CONTRACT_ID}/schedule/"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "_now", lambda: NOW)


@pytest.fixture
def listening(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="s"
    )
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: sent.append(o))
    return sent


def test_operator_types_the_day_and_it_is_stored_audited_and_told(
    client: Client,
    tenant: Tenant,
    contract: Contract,
    listening: list[dict[str, object]],
    mailoutbox,  # type: ignore[no-untyped-def]
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    contract.contacts = ["exploit@plant.example"]
    contract.save()
    sign_in(client, tenant.operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            URL,
            {"day": "2025-09-22", "update_date": "2025-09-21 12:55:05", "stops": "11:55 - 18:00"},
        )
    assert response.status_code == 302
    version = ScheduleVersion.objects.get(contract=contract)
    assert version.source == VersionSource.MANUAL
    assert version.update_date == paris(2025, 9, 21, 12, 55, 5)
    assert [(e.start, e.end) for e in version.episodes.all()] == [
        (paris(2025, 9, 22, 11, 55), paris(2025, 9, 22, 18, 0))
    ]
    event = AuditEvent.objects.get(action="smartoa.schedule.entered")
    assert event.actor == tenant.operator and event.after["source"] == "manual"
    # Told like a polled version: the notice mailed, a webhook delivery queued.
    assert Notification.objects.filter(dedupe_key=f"version:{version.pk}").exists()
    assert len(mailoutbox) == 1 and "saisi à la main" in mailoutbox[0].body.lower()
    [delivery] = WebhookDelivery.objects.filter(version=version)
    assert delivery.payload["source"] == "manual"
    assert listening == [{"kwargs": {"channel": "smartoa.schedule", "delivery_pk": delivery.pk}}]
    # Plant controllers read it like any version.
    point = selectors.setpoint(contract=contract, now=paris(2025, 9, 22, 12, 0))
    assert point.value == 1.0
    page = client.get(f"/smartoa/contracts/{CONTRACT_ID}/").content.decode()
    assert "saisie manuelle" in page
    api = client.get(f"/api/v1/smartoa/contracts/{CONTRACT_ID}/schedules", {"date": "2025-09-22"})
    assert [v["source"] for v in api.json()["versions"]] == ["manual"]


def test_the_api_answer_can_be_pasted_whole(
    client: Client, tenant: Tenant, contract: Contract, listening: list[dict[str, object]]
) -> None:
    sign_in(client, tenant.operator)
    pasted = SEED_BODY.replace("BOAXXXXX", CONTRACT_ID)
    assert client.post(URL, {"stops": pasted}).status_code == 302
    version = ScheduleVersion.objects.get(contract=contract)
    assert (version.source, version.application_date) == ("manual", dt.date(2025, 9, 22))


def test_the_api_version_seen_later_is_the_same_version(
    client: Client,
    tenant: Tenant,
    contract: Contract,
    oa_client: SmartOAClient,
    listening: list[dict[str, object]],
) -> None:
    """Entered with the update date the portal shows, the API's answer is then known."""
    sign_in(client, tenant.operator)
    client.post(
        URL, {"day": "2025-09-22", "update_date": "2025-09-21 12:55:05", "stops": "11:55-18:00"}
    )
    assert poll_contract(contract=contract, now=NOW, client=oa_client).outcome == "unchanged"
    assert ScheduleVersion.objects.filter(contract=contract).count() == 1


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"stops": "11:55 - 18:00"}, "day", "Requis"),
        ({"day": "2025-09-22", "stops": "25:00 - 26:00"}, "stops", "heure impossible"),
        ({"day": "2025-09-22", "stops": "midi - 18:00"}, "stops", "heure illisible"),
        ({"day": "2025-09-22", "stops": "18:00 - 11:55"}, "stops", "la fin précède le début"),
        ({"day": "2025-09-22", "stops": "10:00-12:00\n11:00-13:00"}, "stops", "se chevauchent"),
        ({"day": "2025-09-22", "update_date": "hier", "stops": ""}, "update_date", "illisible"),
        ({"stops": '{"id": "BOA-OTHER"}'}, "stops", "réponse Smart OA invalide"),
    ],
)
def test_bad_entries_are_400_naming_the_field(
    client: Client, tenant: Tenant, contract: Contract, data, field, reason
) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, tenant.operator)
    response = client.post(URL, data)
    assert response.status_code == 400
    form = response.context["manual_form"]
    assert reason in " ".join(form.errors[field])
    assert not ScheduleVersion.objects.exists()


def test_the_same_version_twice_is_refused(
    client: Client, tenant: Tenant, contract: Contract, listening: list[dict[str, object]]
) -> None:
    sign_in(client, tenant.operator)
    data = {"day": "2025-09-22", "update_date": "2025-09-21 12:55", "stops": "11:55-18:00"}
    assert client.post(URL, data).status_code == 302
    response = client.post(URL, data)
    assert response.status_code == 400
    assert "déjà enregistrée" in " ".join(response.context["manual_form"].errors["update_date"])


def test_viewers_cannot_enter_a_schedule(
    client: Client, tenant: Tenant, contract: Contract
) -> None:
    sign_in(client, tenant.viewer)
    assert client.post(URL, {"day": "2025-09-22", "stops": ""}).status_code == 403


def test_on_the_25_hour_day_a_repeated_hour_needs_its_offset(contract: Contract) -> None:
    """25/10/2026: 02:00-03:00 happens twice in Paris."""
    day = dt.date(2026, 10, 25)
    update = paris(2026, 10, 24, 12, 55)
    with pytest.raises(manual.ManualScheduleError) as caught:
        manual.from_stops(
            contract_id=CONTRACT_ID, day=day, update_date=update, stops_text="02:30 - 04:00"
        )
    assert "existe deux fois" in caught.value.reason and caught.value.field == "stops"
    schedule = manual.from_stops(
        contract_id=CONTRACT_ID, day=day, update_date=update, stops_text="02:30+02:00 - 02:30+01:00"
    )
    [stop] = schedule.episodes
    assert (stop.start, stop.end) == (
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
    )
    assert schedule.periods[-1].end == dt.datetime(2026, 10, 25, 23, tzinfo=dt.UTC)  # 25 hours


def test_on_the_23_hour_day_a_skipped_hour_is_refused_and_midnight_ends_the_day() -> None:
    """29/03/2026: Paris goes from 02:00 straight to 03:00."""
    day = dt.date(2026, 3, 29)
    update = paris(2026, 3, 28, 12, 55)
    with pytest.raises(manual.ManualScheduleError) as caught:
        manual.from_stops(
            contract_id=CONTRACT_ID, day=day, update_date=update, stops_text="02:30 - 04:00"
        )
    assert "n'existe pas" in caught.value.reason
    schedule = manual.from_stops(
        contract_id=CONTRACT_ID, day=day, update_date=update, stops_text="20:00 → 24:00"
    )
    assert schedule.periods[-1].end == dt.datetime(2026, 3, 29, 22, tzinfo=dt.UTC)
    assert schedule.periods[-1].value == 1.0


def test_no_line_is_a_day_without_stop(contract: Contract, sim: simulator.SimulatorState) -> None:
    schedule = manual.from_stops(
        contract_id=CONTRACT_ID,
        day=dt.date(2025, 9, 22),
        update_date=paris(2025, 9, 22, 9, 30),
        stops_text="",
    )
    assert [p.value for p in schedule.periods] == [0.0] and schedule.episodes == []
