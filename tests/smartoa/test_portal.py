"""Portal pages of Smart OA: scoping by organisation, roles, and each action."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hub.clock import PARIS
from hub.models import ApiToken, AuditEvent, Point, Series
from hub.services.tokens import create_token
from smartoa import selectors, simulator, tasks, views
from smartoa.client import SmartOAClient, parse_schedule
from smartoa.models import Contract, ControllerAccess, WebhookEndpoint
from smartoa.polling import poll_contract
from smartoa.services import create_contract, record_schedule
from tests.conftest import Tenant
from tests.hub.test_portal_support import sign_in

from .conftest import CONTRACT_ID, paris

NOW = paris(2025, 9, 22, 13, 0)
HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = f"/smartoa/contracts/{CONTRACT_ID}/"


@pytest.fixture(autouse=True)
def pinned_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "_now", lambda: NOW)


@pytest.fixture
def seeded(contract: Contract, oa_client: SmartOAClient) -> Contract:
    poll_contract(contract=contract, now=paris(2025, 9, 22, 8, 0), client=oa_client)
    return contract


@pytest.fixture
def foreign_contract(foreign: Tenant) -> Contract:
    return create_contract(
        organisation=foreign.organisation,
        contract_id="BOA-RIVAL-000001",
        account_id="x",
        api_token="their-upstream-secret",
    )


def test_list_shows_state_next_stop_and_last_poll_of_own_contracts_only(
    client: Client, tenant: Tenant, seeded: Contract, foreign_contract: Contract
) -> None:
    sign_in(client, tenant.viewer)
    page = client.get("/smartoa/contracts/").content.decode()
    assert CONTRACT_ID in page and foreign_contract.contract_id not in page
    assert "À l'arrêt" in page and "jusqu'au 22/09 18:00" in page  # inside the seed's stop
    assert "22/09/2025 08:00" in page  # the last poll
    assert "success" in page


def test_list_state_before_the_stop_shows_the_next_one(
    client: Client, tenant: Tenant, seeded: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "_now", lambda: paris(2025, 9, 22, 9, 0))
    sign_in(client, tenant.viewer)
    page = client.get("/smartoa/contracts/").content.decode()
    assert "Production autorisée" in page
    assert "22/09/2025 11:55 → 18:00" in page


def test_contract_page_has_timeline_history_and_chart(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    sign_in(client, tenant.viewer)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="timeline-2025-09-22"' in page and 'id="timeline-2025-09-23"' in page
    # 11:55 is 49.653 % of a 24-hour day; the stop lasts 6 h 05 (25.347 %).
    assert "left: 49.653%; width: 25.347%;" in page
    assert "aucun programme publié" in page  # tomorrow
    assert "première version" in page
    assert 'id="compliance-chart"' in page and "vendor/chart.umd.min.js" in page
    assert 'id="compliance-data"' in page
    # Viewers read: no action, no secret management.
    assert 'id="fetch-now"' not in page and 'id="credentials"' not in page
    assert 'id="controller-tokens"' not in page


def test_timeline_of_a_25_hour_day(client: Client, tenant: Tenant, contract: Contract) -> None:
    """25/10/2026: Paris falls back at 03:00 CEST to 02:00 CET, a 25-hour day."""
    timeline = selectors.timeline(contract=contract, day=dt.date(2026, 10, 25))
    assert timeline.hours == 25 and timeline.clock_change
    assert len(timeline.ticks) == 25  # one tick per hour drawn: 25 of them
    # Every three hours of wall time, and the repeated 02 h hour twice with its offset.
    assert [t.label for t in timeline.labelled] == [
        "00 h",
        "02 h UTC+2",
        "02 h UTC+1",
        "03 h",
        "06 h",
        "09 h",
        "12 h",
        "15 h",
        "18 h",
        "21 h",
    ]
    assert [t.left for t in timeline.labelled[1:4]] == pytest.approx([8.0, 12.0, 16.0])


def test_timeline_of_a_23_hour_day(contract: Contract) -> None:
    """29/03/2026: Paris springs forward at 02:00 CET to 03:00 CEST, a 23-hour day."""
    timeline = selectors.timeline(contract=contract, day=dt.date(2026, 3, 29))
    assert timeline.hours == 23 and len(timeline.ticks) == 23
    assert [t.label for t in timeline.labelled][:4] == ["00 h", "01 h UTC+1", "03 h UTC+2", "06 h"]
    assert timeline.labelled[2].left == pytest.approx(2 / 23 * 100)


def test_stop_on_the_25_hour_night_is_shown_with_its_offsets(
    client: Client, tenant: Tenant, contract: Contract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stop 00:30Z-01:30Z on 25/10/2026 runs from 02:30 CEST to 02:30 CET: without offsets
    it would read « 02:30 → 02:30 »."""
    day = dt.date(2026, 10, 25)
    monkeypatch.setattr(views, "_now", lambda: paris(2026, 10, 25, 0, 10))
    start = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC).astimezone(PARIS)
    end = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)
    body = simulator.body_for(
        contract_id=CONTRACT_ID, day=day, update_date=paris(2026, 10, 24, 12, 55), stops=()
    )
    body["data"] = [
        {"start_date": body["data"][0]["start_date"], "end_date": start.isoformat(), "value": 0.0},
        {"start_date": start.isoformat(), "end_date": end.isoformat(), "value": 1.0},
        {"start_date": end.isoformat(), "end_date": body["data"][0]["end_date"], "value": 0.0},
    ]
    record_schedule(
        contract=contract,
        schedule=parse_schedule(json.dumps(body), expected_id=CONTRACT_ID),
        fetched_at=paris(2026, 10, 24, 13, 0),
    )
    sign_in(client, tenant.viewer)
    page = client.get(PAGE).content.decode()
    assert 'data-hours="25"' in page
    assert "Arrêt 25/10/2026 02:30 (UTC+2) → 25/10/2026 02:30 (UTC+1)" in page
    # 00:30Z is 2 h 30 after 22:00Z, the day's start: 10 % of 25 hours; one hour is 4 %.
    assert "left: 10.000%; width: 4.000%;" in page
    listing = client.get("/smartoa/contracts/").content.decode()
    assert "25/10/2026 02:30 (UTC+2) → 02:30 (UTC+1)" in listing


def test_version_history_shows_the_changes(
    client: Client,
    tenant: Tenant,
    seeded: Contract,
    oa_client: SmartOAClient,
    sim: simulator.SimulatorState,
) -> None:
    sim.clock = lambda: paris(2025, 9, 22, 9, 35)
    poll_contract(contract=seeded, now=paris(2025, 9, 22, 9, 35), client=oa_client)
    sign_in(client, tenant.viewer)
    page = client.get(PAGE).content.decode()
    # Paris time, as everywhere a person reads a time (no offset on an ordinary day).
    assert "ajouté 19:00 → 20:00" in page
    assert "déplacé 11:55 → 18:00 devient 11:55 → 16:00" in page


def test_foreign_contract_is_404_on_every_page(
    client: Client, tenant: Tenant, foreign_contract: Contract
) -> None:
    sign_in(client, tenant.admin)
    base = f"/smartoa/contracts/{foreign_contract.contract_id}/"
    assert client.get(base).status_code == 404
    for action in (
        "fetch/",
        "contacts/",
        "credentials/",
        "webhook/",
        "tokens/",
        "tokens/revoke/",
        "load-curve/",
    ):
        assert client.post(base + action, {}).status_code == 404, action
    assert client.get("/smartoa/contracts/BOA-NONE-1/").status_code == 404


def test_bad_day_is_a_400_naming_the_field(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    # "date inputs localised" (issue 19): the day is typed as 22/09/2025 (ISO still read, for
    # links); anything else is a 400 saying which format is expected.
    sign_in(client, tenant.viewer)
    for typed in ("22/09/2025", "2025-09-22"):
        response = client.get(PAGE, {"day": typed})
        assert response.status_code == 200, typed
        assert "Facturation et conformité du 22/09/2025" in response.content.decode()
    response = client.get(PAGE, {"day": "31/02/2025"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="day-error"' in html and "JJ/MM/AAAA" in html
    assert 'value="31/02/2025"' in html


def test_billing_of_the_seed_day_on_the_page(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    sign_in(client, tenant.viewer)
    response = client.get(PAGE, {"day": "2025-09-22"})
    chart = response.context["chart"]
    assert len(chart["states"]) == 288
    assert chart["labels"][143] == "11:55" and chart["states"][143] == "neutralised"
    assert chart["states"][144] == "stop" and chart["states"][214] == "stop"
    assert chart["labels"][215] == "17:55" and chart["states"][215] == "neutralised"
    assert chart["states"][216] == "normal"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("fetch/", {}),
        ("contacts/", {"contacts": "a@b.example"}),
        ("credentials/", {"account_id": "x", "auth_scheme": "bearer", "api_token": "t"}),
        ("webhook/", {"url": "https://plant.example/h", "secret": "s"}),
        ("tokens/", {"name": "plc", "allowed_networks": "203.0.113.7"}),
        ("load-curve/", {}),
    ],
)
def test_viewers_cannot_act(
    client: Client, tenant: Tenant, contract: Contract, path: str, data: dict[str, str]
) -> None:
    sign_in(client, tenant.viewer)
    assert client.post(PAGE + path, data).status_code == 403


@pytest.mark.parametrize("path", ["credentials/", "webhook/", "tokens/", "tokens/revoke/"])
def test_operators_cannot_manage_secrets(
    client: Client, tenant: Tenant, contract: Contract, path: str
) -> None:
    sign_in(client, tenant.operator)
    assert client.post(PAGE + path, {}).status_code == 403


def test_fetch_now_enqueues_a_poll_after_commit(
    client: Client,
    tenant: Tenant,
    contract: Contract,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.poll_contract, "apply_async", lambda **o: sent.append(o))
    sign_in(client, tenant.operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PAGE + "fetch/", **HTMX)
    assert response.status_code == 200
    assert "Relève demandée à 13:00:00" in response.content.decode()
    assert sent == [{"kwargs": {"contract_pk": contract.pk}}]


def test_operator_sets_contacts(client: Client, tenant: Tenant, contract: Contract) -> None:
    sign_in(client, tenant.operator)
    response = client.post(PAGE + "contacts/", {"contacts": "b@plant.example\nA@plant.example"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.contacts == ["a@plant.example", "b@plant.example"]
    bad = client.post(PAGE + "contacts/", {"contacts": "nobody"})
    assert bad.status_code == 400 and "Adresse e-mail invalide" in bad.content.decode()


def test_upstream_token_is_write_only_and_audited(
    client: Client, tenant: Tenant, contract: Contract
) -> None:
    sign_in(client, tenant.admin)
    page = client.get(PAGE).content.decode()
    assert simulator.token_for(CONTRACT_ID) not in page
    response = client.post(
        PAGE + "credentials/",
        {"account_id": "acct-2", "auth_scheme": "basic", "api_token": "brand-new-upstream"},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert (contract.account_id, contract.auth_scheme, contract.api_token) == (
        "acct-2",
        "basic",
        "brand-new-upstream",
    )
    assert "brand-new-upstream" not in client.get(PAGE).content.decode()
    event = AuditEvent.objects.get(action="smartoa.contract.credentials_changed")
    assert event.actor == tenant.admin and "brand-new-upstream" not in str(event.after)
    # An empty token is refused, and what was typed is never echoed back.
    refused = client.post(
        PAGE + "credentials/", {"account_id": "acct-2", "auth_scheme": "basic", "api_token": ""}
    )
    assert refused.status_code == 400


def test_admin_sets_the_webhook_and_sees_deliveries(
    client: Client,
    tenant: Tenant,
    contract: Contract,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    sign_in(client, tenant.admin)
    refused = client.post(PAGE + "webhook/", {"url": "https://10.0.0.1/h", "secret": "s"})
    assert refused.status_code == 400 and "adresse privée" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()
    ok = client.post(
        PAGE + "webhook/", {"url": "https://plant.example/h", "secret": "whsec", "enabled": "on"}
    )
    assert ok.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert list(endpoint.contracts.all()) == [contract] and endpoint.secret == "whsec"
    # Changing the URL keeps the secret when the field is left empty.
    client.post(PAGE + "webhook/", {"url": "https://plant.example/v2", "enabled": "on"})
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.secret) == ("https://plant.example/v2", "whsec")
    page = client.get(PAGE).content.decode()
    assert "https://plant.example/v2" in page and "whsec" not in page
    assert AuditEvent.objects.filter(action__startswith="smartoa.webhook.").count() == 2


def test_admin_creates_a_controller_token_restricted_to_the_contract(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    other = create_contract(
        organisation=tenant.organisation,
        contract_id="BOA-2025-000099",
        account_id="o",
        api_token="o",
    )
    sign_in(client, tenant.admin)
    missing = client.post(PAGE + "tokens/", {"name": "plc", "allowed_networks": ""})
    assert missing.status_code == 400
    response = client.post(PAGE + "tokens/", {"name": "plc", "allowed_networks": "127.0.0.1"})
    assert response.status_code == 200
    plaintext = response.context["issued"].plaintext
    assert plaintext in response.content.decode()
    token = ApiToken.objects.get(name="plc")
    assert (token.scopes, token.allowed_networks) == (["read"], ["127.0.0.1/32"])
    assert list(
        ControllerAccess.objects.filter(token=token).values_list("contract", flat=True)
    ) == [seeded.pk]
    assert plaintext not in client.get(PAGE).content.decode()  # shown once
    api = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    assert api.get(f"/api/v1/smartoa/contracts/{CONTRACT_ID}/setpoint").status_code == 200
    assert api.get(f"/api/v1/smartoa/contracts/{other.contract_id}/setpoint").status_code == 404
    far = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}", REMOTE_ADDR="198.51.100.9")
    assert far.get(f"/api/v1/smartoa/contracts/{CONTRACT_ID}/setpoint").status_code == 403
    assert AuditEvent.objects.filter(action="smartoa.controller_access.granted").count() == 1


def test_admin_revokes_only_tokens_of_the_contract(
    client: Client, tenant: Tenant, contract: Contract
) -> None:
    sign_in(client, tenant.admin)
    client.post(PAGE + "tokens/", {"name": "plc", "allowed_networks": "203.0.113.0/24"})
    token = ApiToken.objects.get(name="plc")
    unrelated = create_token(organisation=tenant.organisation, name="erp").token
    assert client.post(PAGE + "tokens/revoke/", {"token": unrelated.pk}).status_code == 404
    assert client.post(PAGE + "tokens/revoke/", {"token": "x"}).status_code == 404
    assert client.post(PAGE + "tokens/revoke/", {"token": token.pk}).status_code == 302
    token.refresh_from_db()
    unrelated.refresh_from_db()
    assert token.revoked_at == NOW and unrelated.revoked_at is None


GOOD_CSV = (
    "start;energy_kwh\n2025-09-22T11:55:00+02:00;0,5\n2025-09-22 12:00;0\n2025-09-22 12:05;1.25\n"
)


def test_operator_uploads_a_load_curve_and_sees_the_billing(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    sign_in(client, tenant.operator)
    upload = SimpleUploadedFile("courbe.csv", GOOD_CSV.encode(), content_type="text/csv")
    response = client.post(PAGE + "load-curve/", {"file": upload})
    assert response.status_code == 302 and response["Location"].endswith("?day=2025-09-22")
    series = Series.objects.get(metering_point=seeded.metering_point, source="smartoa-csv")
    assert (series.quantity, series.unit, series.step_seconds) == (
        "active_energy_export",
        "kWh",
        300,
    )
    assert Point.objects.filter(series_id=series.pk).count() == 3
    page = client.get(response["Location"])
    billing = page.context["billing"]
    assert billing.non_compliant_energy == pytest.approx(1.25)  # 12:05 is a stop step
    assert billing.neutralised_energy == pytest.approx(0.5)  # 11:55 is neutralised
    assert "1,250 kWh" in page.content.decode()


def test_bad_rows_are_reported_by_line_and_nothing_is_stored(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    sign_in(client, tenant.operator)
    body = (
        "start;energy_kwh\n"
        "2025-09-22T12:00:00+02:00;1\n"
        "2025-09-22T12:03:00+02:00;1\n"
        "yesterday;1\n"
        "2025-09-22T12:10:00+02:00;-2\n"
        "2025-09-22T12:00:00+02:00;1\n"
        "2025-10-26 02:30;1\n"
        "2025-03-30 02:30;1\n"
        "2025-09-22T12:20:00+02:00\n"
    )
    upload = SimpleUploadedFile("courbe.csv", body.encode(), content_type="text/csv")
    response = client.post(PAGE + "load-curve/", {"file": upload})
    assert response.status_code == 400
    errors = [str(e) for e in response.context["upload_errors"].errors]
    assert [e.split(" :")[0] for e in errors] == [
        "ligne 3",
        "ligne 4",
        "ligne 5",
        "ligne 6",
        "ligne 7",
        "ligne 8",
        "ligne 9",
    ]
    assert "pas de 5 minutes" in errors[0]
    assert "illisible" in errors[1]
    assert "négative" in errors[2]
    assert "déjà donné ligne 2" in errors[3]
    assert "ambiguë" in errors[4]
    assert "inexistante" in errors[5]
    assert "2 colonnes" in errors[6]
    assert "rien n'a été enregistré" in response.content.decode()
    assert not Series.objects.filter(source="smartoa-csv").exists()


def test_upload_without_a_production_point_is_refused(
    client: Client, tenant: Tenant, contract: Contract
) -> None:
    Contract.objects.filter(pk=contract.pk).update(metering_point=None)
    sign_in(client, tenant.operator)
    upload = SimpleUploadedFile("c.csv", GOOD_CSV.encode(), content_type="text/csv")
    response = client.post(PAGE + "load-curve/", {"file": upload})
    assert response.status_code == 400
    assert "pas de point de comptage" in response.content.decode()


def test_oversized_upload_is_refused_without_storing(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    from smartoa import loadcurve

    sign_in(client, tenant.operator)
    body = GOOD_CSV.encode() + b"#" * loadcurve.MAX_BYTES
    upload = SimpleUploadedFile("big.csv", body, content_type="text/csv")
    response = client.post(PAGE + "load-curve/", {"file": upload})
    assert response.status_code == 400
    assert "trop volumineux" in response.content.decode()
    assert not Series.objects.filter(source="smartoa-csv").exists()


def test_late_return_after_the_stop_is_reported_on_the_page(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    """Seed: « Le producteur doit être à pleine puissance à partir de 18h. »"""
    sign_in(client, tenant.operator)
    rows = ["start;energy_kwh"] + [
        f"2025-09-22T{time}:00+02:00;{energy}"
        for time, energy in (("18:00", "0,2"), ("18:05", "1"), ("18:10", "1"), ("18:15", "1"))
    ]
    upload = SimpleUploadedFile("courbe.csv", "\n".join(rows).encode(), content_type="text/csv")
    response = client.post(PAGE + "load-curve/", {"file": upload})
    page = client.get(response["Location"])
    [check] = page.context["billing"].returns
    assert check.status == "late"
    html = page.content.decode()
    returns = html[html.index('id="returns"') :][:400]
    assert "18:00" in returns and "20 % de la production" in returns, returns
    assert page.context["billing"].compliant is False


def test_a_stop_day_without_a_load_curve_is_undetermined_and_says_what_to_do(
    client: Client, tenant: Tenant, seeded: Contract
) -> None:
    """Issue 19: "an empty billing chart says « Conforme : non » with no reason". Without a
    measurement no stop step can be judged: undetermined, the reason and what to do."""
    sign_in(client, tenant.viewer)
    page = client.get(PAGE, {"day": "2025-09-22"})
    billing = page.context["billing"]
    assert billing.stop_steps > 0 and not billing.has_measurements
    html = page.content.decode()
    verdict = html[html.index('id="compliant"') :][:300]
    assert "indéterminé" in verdict and "pas à l'arrêt sans mesure" in verdict, verdict
    assert ">non<" not in verdict
    assert 'id="compliance-empty"' in html and "Déposez la courbe de charge" in html
