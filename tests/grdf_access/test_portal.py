"""Portal pages: rights table, unit form, mass import, PCE histogram, export, thresholds, proofs."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from grdf_access import csv_import, simulator
from grdf_access.models import AccessRight, ProofStatus, RightState, Threshold
from grdf_access.sync import sync_data
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters
from tests.grdf_access.test_csv_import import HEADER, row
from tests.hub.test_portal_support import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client: Client, tenant: Tenant) -> Client:
    sign_in(client, tenant.operator)
    return client


def test_rights_table_with_filters_and_full_view(sim, tenant, operator) -> None:
    active_right(tenant)
    page = operator.get("/grdf/", {"pce": "654"})
    assert page.status_code == 200
    html = page.content.decode()
    assert PCE_ID in html and "Actif" in html and "Site A" in html
    assert "Identifiant GRDF" not in html
    full = operator.get("/grdf/", {"vue": "complete"}).content.decode()
    assert "Identifiant GRDF" in full and "01/01/2026 → 30/06/2027" in full
    assert PCE_ID not in operator.get("/grdf/", {"state": "Refusee"}).content.decode()


def test_unit_request_form(sim, tenant, operator) -> None:
    bad = operator.post("/grdf/droits/nouveau/", {"pce": "GI12", "code_postal": "x"})
    assert bad.status_code == 200 and "PCE" in bad.content.decode()
    response = operator.post(
        "/grdf/droits/nouveau/",
        {
            "pce": "GI111111",
            "role": "AUTORISE_CONTRAT_FOURNITURE",
            "raison_sociale": "Orange S.A",
            "courriel_titulaire": "gaz@orange.example",
            "code_postal": "75015",
            "debut_consentement": "2026-11-01",
            "fin_consentement": "2027-11-01",
            "debut_donnees": "2025-01-01",
            "fin_donnees": "2027-11-01",
            "types": ["publiees", "informatives_journalieres"],
        },
    )
    right = AccessRight.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/grdf/droits/{right.pk}/"
    assert right.state == RightState.TO_VALIDATE and right.informative_daily
    assert counters()["declarations"] == 1


def test_viewer_sees_but_cannot_request(sim, tenant, client) -> None:
    sign_in(client, tenant.viewer)
    assert client.get("/grdf/").status_code == 200
    assert client.get("/grdf/droits/nouveau/").status_code == 403


def test_mass_import_dry_run_then_import(sim, tenant, operator) -> None:
    bad = (
        HEADER + "\n" + row(pce="GI111111") + "\n" + row(pce="XX", code_postal="1") + "\n"
    ).encode()
    report = operator.post("/grdf/droits/import/", {"file": SimpleUploadedFile("d.csv", bad)})
    assert report.status_code == 400
    html = report.content.decode()
    assert "rien n&#x27;a été importé" in html or "rien n'a été importé" in html
    assert "<td>3</td><td>pce</td>" in html and "<td>3</td><td>code_postal</td>" in html
    assert "import-confirm" not in html
    assert not AccessRight.objects.exists()

    good = (HEADER + "\n" + row(pce="GI111111") + "\n" + row(pce="GI222222") + "\n").encode()
    dry = operator.post("/grdf/droits/import/", {"file": SimpleUploadedFile("d.csv", good)})
    assert dry.status_code == 200 and "import-confirm" in dry.content.decode()
    assert not AccessRight.objects.exists()
    token = dry.context["token"]
    assert operator.post("/grdf/droits/import/", {"confirm": "forged"}).status_code == 302
    assert not AccessRight.objects.exists()
    done = operator.post("/grdf/droits/import/", {"confirm": token})
    assert done.status_code == 302
    assert AccessRight.objects.count() == 2 and counters()["declarations"] == 2
    template = operator.get("/grdf/droits/modele.csv")
    assert template.content.decode().splitlines()[0] == ";".join(csv_import.COLUMNS)


def test_pce_page_histogram_and_refusal(sim, tenant, gateway, operator) -> None:
    active_right(tenant)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    page = operator.get(
        f"/grdf/pce/{PCE_ID}/", {"debut": "2026-03-01", "fin": "2026-11-01", "pas": "month"}
    )
    assert page.status_code == 200
    chart = page.context["chart"]
    assert chart["labels"][0] == "03/2026" and len(chart["labels"]) == 8
    assert "chart.umd.min.js" in page.content.decode()
    assert all(value > 0 for value in chart["energy"])
    shown = json.loads(
        page.content.decode()
        .split('id="chart-data" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert shown == chart
    refused = operator.get(f"/grdf/pce/{PCE_ID}/", {"debut": "2025-06-01", "fin": "2026-01-10"})
    assert refused.status_code == 403
    assert "plage autorisée" in refused.content.decode()


def test_export_xlsx_from_the_portal(sim, tenant, gateway, operator) -> None:
    active_right(tenant)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    response = operator.post(
        "/grdf/export/",
        {
            "pces": [PCE_ID],
            "types": ["informatives_journalieres"],
            "start": "2026-10-01",
            "end": "2026-11-01",
            "format": "xlsx",
        },
    )
    assert response.status_code == 200
    from openpyxl import load_workbook

    rows = list(load_workbook(io.BytesIO(response.content))["Consommations"].values)
    assert len(rows) == 1 + 3 * 31  # energy, volume and index of each gas day
    refused = operator.post(
        "/grdf/export/",
        {
            "pces": [PCE_ID],
            "types": ["contractuelles", "informatives_horaires"],
            "start": "2026-10-01",
            "end": "2026-11-01",
            "format": "csv",
        },
    )
    assert refused.status_code == 403 and "horaires" in refused.content.decode()


def test_thresholds_page(sim, tenant, operator) -> None:
    active_right(tenant)
    response = operator.post(
        "/grdf/seuils/",
        {
            "pce": PCE_ID,
            "frequency": "yearly",
            "value_kwh": "100000",
            "before_percent": "90",
            "notify_before": "on",
            "emails": "a@acme.example\nb@acme.example",
        },
    )
    assert response.status_code == 302
    threshold = Threshold.objects.get()
    assert threshold.email_list == ["a@acme.example", "b@acme.example"] and threshold.notify_before
    bad = operator.post(
        "/grdf/seuils/",
        {
            "pce": PCE_ID,
            "frequency": "yearly",
            "value_kwh": "5",
            "before_percent": "80",
            "emails": "pas un courriel",
        },
    )
    assert bad.status_code == 200 and Threshold.objects.count() == 1
    assert operator.post(f"/grdf/seuils/{threshold.pk}/supprimer/").status_code == 302
    assert not Threshold.objects.exists()


def test_controls_page_and_proof_upload(sim, tenant, operator) -> None:
    right = active_right(tenant)
    simulator.request_proofs(right.grdf_id)
    right.proof_status = ProofStatus.AWAITED
    right.proof_deadline = TODAY.replace(day=12)
    right.save()
    page = operator.get("/grdf/controles/").content.decode()
    assert "10 jours" in page and "En attente de preuves" in page
    files = [SimpleUploadedFile(f"{i}.pdf", b"%PDF-1.4 x") for i in range(4)]
    operator.post(f"/grdf/droits/{right.pk}/preuves/", {"preuves": files})
    right.refresh_from_db()
    assert right.proof_status == ProofStatus.AWAITED and counters()["proof_uploads"] == 0
    operator.post(
        f"/grdf/droits/{right.pk}/preuves/",
        {"preuves": [SimpleUploadedFile("p.pdf", b"%PDF-1.4 x")]},
    )
    right.refresh_from_db()
    assert right.proof_status == ProofStatus.CHECKING and counters()["proof_uploads"] == 1


def test_right_page_terminate_and_revoke(sim, tenant, operator) -> None:
    right = active_right(tenant)
    assert operator.get(f"/grdf/droits/{right.pk}/").status_code == 200
    operator.post(f"/grdf/droits/{right.pk}/revoquer/")
    right.refresh_from_db()
    assert right.state == RightState.REVOKED


def test_foreign_pages_are_404(sim, tenant, foreign, operator) -> None:
    theirs = active_right(foreign, pce="GI999999")
    threshold = Threshold.objects.create(
        organisation=foreign.organisation, pce=theirs.pce, frequency="daily", value_kwh=5
    )
    for url in (
        f"/grdf/pce/{theirs.pce.identifier}/",
        f"/grdf/droits/{theirs.pk}/",
    ):
        assert operator.get(url).status_code == 404
        assert operator.post(url, {}).status_code == 404
    for url in (
        f"/grdf/droits/{theirs.pk}/resilier/",
        f"/grdf/droits/{theirs.pk}/revoquer/",
        f"/grdf/droits/{theirs.pk}/preuves/",
        f"/grdf/seuils/{threshold.pk}/supprimer/",
    ):
        assert operator.post(url, {}).status_code == 404
    assert AccessRight.objects.get(pk=theirs.pk).state == RightState.ACTIVE


def test_estimated_page(sim, tenant, operator) -> None:
    assert operator.get("/grdf/estimes/").status_code == 200


def test_pce_page_shows_published_data_when_granted_and_refuses_hourly(
    sim, tenant, gateway, operator
) -> None:
    active_right(tenant)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    url = f"/grdf/pce/{PCE_ID}/"
    published = operator.get(
        url, {"type": "publiees", "debut": "2026-01-01", "fin": "2026-11-01", "pas": "year"}
    )
    assert published.status_code == 200 and published.context["chart"]["labels"] == ["2026"]
    hourly = operator.get(url, {"type": "informatives_horaires"})
    assert hourly.status_code == 403 and "horaires" in hourly.content.decode()
