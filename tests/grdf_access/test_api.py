"""The REST API: every operation, consent refusals as 403 with the reason, foreign ids as 404."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from grdf_access import simulator
from grdf_access.models import AccessRight, Proof, ProofStatus, RightState, Threshold
from grdf_access.sync import sync_data
from hub import quantities
from tests.api_problems import field_errors
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n" + b"0" * 100
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 100


def synced(tenant: Tenant, gateway, **kwargs) -> AccessRight:
    right = active_right(tenant, **kwargs)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    return right


def test_declare_and_list_with_filters(sim, tenant, operator_client) -> None:
    body = {
        "pce": "GI 111 111",
        "role": "autorise",
        "raison_sociale": "Orange S.A",
        "courriel_titulaire": "gaz@orange.example",
        "code_postal": "75015",
        "debut_consentement": "2026-11-01",
        "fin_consentement": "2027-12-31",
        "debut_donnees": "2024-01-01",
        "fin_donnees": "2026-12-31",
        "publiees": True,
        "informatives_journalieres": True,
        "libelle_site": "Appel d'offres #N",
    }
    response = operator_client.post("/api/v1/grdf/rights/", body, format="json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["pce"] == "GI111111" and made["state"] == RightState.TO_VALIDATE
    assert set(made["types"]) == {"publiees", "informatives_journalieres", "techniques"}
    listed = operator_client.get("/api/v1/grdf/rights/", {"site_label": "offres"}).json()["results"]
    assert [r["pce"] for r in listed] == ["GI111111"]
    assert operator_client.get("/api/v1/grdf/rights/", {"state": "Active"}).json()["results"] == []
    assert (
        len(operator_client.get("/api/v1/grdf/rights/", {"client": "orange"}).json()["results"])
        == 1
    )
    assert (
        operator_client.get("/api/v1/grdf/pces/").json()["results"][0]["site_label"]
        == "Appel d'offres #N"
    )


def test_bad_declaration_is_a_400_naming_each_field(sim, tenant, operator_client) -> None:
    response = operator_client.post(
        "/api/v1/grdf/rights/",
        {"pce": "12", "role": "autorise", "code_postal": "7", "debut_consentement": "hier"},
        format="json",
    )
    assert response.status_code == 400
    errors = field_errors(response)
    assert {"pce", "code_postal", "debut_consentement", "nom_titulaire"} <= set(errors)
    assert counters()["declarations"] == 0
    assert not AccessRight.objects.exists()


def test_viewer_cannot_declare(sim, tenant, viewer_client) -> None:
    assert viewer_client.post("/api/v1/grdf/rights/", {}, format="json").status_code == 403


def test_modify_terminate_revoke(sim, tenant, operator_client) -> None:
    first = active_right(tenant)
    second = active_right(tenant, pce="GI222222")
    url = f"/api/v1/grdf/rights/{first.pk}/"
    changed = operator_client.patch(url, {"debut_donnees": "2026-02-01"}, format="json")
    assert changed.status_code == 200 and changed.json()["data_start"] == "2026-02-01"
    wrong = operator_client.patch(url, {"fin_donnees": "2030-01-01"}, format="json")
    assert wrong.status_code == 400 and "fin_donnees" in field_errors(wrong)
    ended = operator_client.post(f"/api/v1/grdf/rights/{first.pk}/terminate")
    assert ended.status_code == 200 and ended.json()["state"] == RightState.TERMINATED
    again = operator_client.post(f"/api/v1/grdf/rights/{first.pk}/terminate")
    assert again.status_code == 400 and "state" in field_errors(again)
    revoked = operator_client.post(f"/api/v1/grdf/rights/{second.pk}/revoke")
    assert revoked.json()["state"] == RightState.REVOKED
    assert simulator.get_right(second.grdf_id)["etat_droit_acces"] == "Révoquée"


def test_consumption_inside_consent_and_403_outside(sim, tenant, gateway, viewer_client) -> None:
    right = synced(tenant, gateway, data_start=dt.date(2026, 3, 1))
    url = f"/api/v1/grdf/pces/{PCE_ID}/consumption"
    daily = viewer_client.get(url, {"start": "2026-03-27", "end": "2026-03-31"})
    assert daily.status_code == 200
    assert [v["label"] for v in daily.json()["values"]] == [
        "27/03/2026", "28/03/2026", "29/03/2026", "30/03/2026",
    ]  # fmt: skip
    monthly = viewer_client.get(url, {"start": "2026-03-01", "end": "2026-11-01", "step": "month"})
    values = monthly.json()["values"]
    assert len(values) == 8 and all(v["energy_kwh"] > 0 for v in values)
    yearly = viewer_client.get(url, {"start": "2026-03-01", "end": "2026-11-01", "step": "year"})
    assert [v["label"] for v in yearly.json()["values"]] == ["2026"]
    assert yearly.json()["values"][0]["energy_kwh"] == pytest.approx(
        sum(v["energy_kwh"] for v in values)
    )

    before = viewer_client.get(url, {"start": "2026-02-01", "end": "2026-03-05"})
    assert before.status_code == 403
    assert "plage autorisée" in before.json()["detail"] and "01/03/2026" in before.json()["detail"]
    hourly = viewer_client.get(
        url, {"start": "2026-03-27", "end": "2026-03-31", "type": "informatives_horaires"}
    )
    assert hourly.status_code == 403 and "horaires" in hourly.json()["detail"]

    right.state = RightState.REVOKED
    right.save()
    revoked = viewer_client.get(url, {"start": "2026-03-27", "end": "2026-03-31"})
    assert revoked.status_code == 403 and "pas actif" in revoked.json()["detail"]
    assert viewer_client.get(url, {"start": "x", "end": "2026-03-31"}).status_code == 400


def test_foreign_objects_are_404(sim, tenant, foreign, gateway, operator_client) -> None:
    theirs = active_right(foreign, pce="GI999999")
    threshold = Threshold.objects.create(
        organisation=foreign.organisation, pce=theirs.pce, frequency="daily", value_kwh=5
    )
    for response in (
        operator_client.get("/api/v1/grdf/pces/GI999999/"),
        operator_client.get(
            "/api/v1/grdf/pces/GI999999/consumption", {"start": "2026-01-01", "end": "2026-01-02"}
        ),
        operator_client.get(f"/api/v1/grdf/rights/{theirs.pk}/"),
        operator_client.patch(f"/api/v1/grdf/rights/{theirs.pk}/", {}, format="json"),
        operator_client.post(f"/api/v1/grdf/rights/{theirs.pk}/revoke"),
        operator_client.post(f"/api/v1/grdf/rights/{theirs.pk}/proofs", {}),
        operator_client.delete(f"/api/v1/grdf/thresholds/{threshold.pk}/"),
        operator_client.post(
            "/api/v1/grdf/export",
            {
                "pces": ["GI999999"],
                "types": ["publiees"],
                "start": "2026-01-01",
                "end": "2026-02-01",
            },
            format="json",
        ),
    ):
        assert response.status_code == 404, response.content
    assert AccessRight.objects.get(pk=theirs.pk).state == RightState.ACTIVE
    assert counters()["requests"] == 0


def test_proof_limits_and_upload(sim, tenant, operator_client) -> None:
    right = active_right(tenant)
    url = f"/api/v1/grdf/rights/{right.pk}/proofs"

    def post(*files: tuple[str, bytes]):
        uploads = [SimpleUploadedFile(name, content) for name, content in files]
        return operator_client.post(url, {"preuves": uploads}, format="multipart")

    not_asked = post(("a.pdf", PDF))
    assert (
        not_asked.status_code == 400 and "ne demande pas" in field_errors(not_asked)["preuves"][0]
    )
    simulator.request_proofs(right.grdf_id)
    right.proof_status = ProofStatus.AWAITED
    right.save()
    too_many = post(*[(f"{i}.pdf", PDF) for i in range(4)])
    assert too_many.status_code == 400 and "3 fichiers" in field_errors(too_many)["preuves"][0]
    too_big = post(("big.pdf", PDF + b"0" * (4 * 1024 * 1024)))
    assert too_big.status_code == 400 and "4 Mo" in field_errors(too_big)["preuves"][0]
    wrong_type = post(("note.pdf", b"just text, named .pdf"))
    assert wrong_type.status_code == 400 and "PDF" in field_errors(wrong_type)["preuves"][0]
    assert counters()["proof_uploads"] == 0 and not Proof.objects.exists()

    done = post(("consentement.pdf", PDF), ("capture.png", PNG))
    assert done.status_code == 201, done.content
    assert done.json()["proof_status"] == ProofStatus.CHECKING
    assert counters()["proof_uploads"] == 1
    assert sorted(Proof.objects.values_list("content_type", flat=True)) == [
        "application/pdf", "image/png",
    ]  # fmt: skip
    # Kept out of the web root, under the var directory.
    from django.conf import settings

    kept = Proof.objects.first()
    assert kept is not None and kept.file.path.startswith(str(settings.VAR_DIR / "grdf-proofs"))
    assert kept.file.read() in (PDF, PNG)
    stored = simulator.get_right(right.grdf_id)
    assert stored["statut_controle_preuve"] == "Preuve en cours de vérification"
    one_more = post(("a.pdf", PDF), ("b.pdf", PDF))
    assert one_more.status_code == 400  # GRDF no longer asks


def test_export_csv_and_xlsx_inside_consent_only(sim, tenant, gateway, viewer_client) -> None:
    synced(tenant, gateway)
    body = {
        "pces": [PCE_ID],
        "types": ["informatives_journalieres", "techniques"],
        "start": "2026-10-24",
        "end": "2026-10-27",
    }
    csv_answer = viewer_client.post("/api/v1/grdf/export", {**body, "format": "csv"}, format="json")
    assert csv_answer.status_code == 200
    lines = csv_answer.content.decode().splitlines()
    assert lines[0].startswith("pce;type;grandeur;unite;journee_gaziere;debut")
    energy = [line for line in lines if quantities.GAS_ENERGY_DAILY.name in line]
    assert [line.split(";")[4] for line in energy] == ["2026-10-24", "2026-10-25", "2026-10-26"]
    assert "2026-10-24T06:00:00+02:00" in energy[0] and "2026-10-25T06:00:00+01:00" in energy[1]
    assert any(line.startswith(f"{PCE_ID};Techniques") for line in lines)

    xlsx = viewer_client.post("/api/v1/grdf/export", {**body, "format": "xlsx"}, format="json")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(xlsx.content))
    rows = list(book["Consommations"].iter_rows(values_only=True))
    assert rows[0][0] == "PCE" and rows[0][4] == "Journée gazière"  # labels, French by default
    assert len(rows) == 1 + 9  # energy, volume, index for 3 gas days
    codes = {row[0]: row[1] for row in book["Codes"].iter_rows(min_row=2, values_only=True)}
    assert codes["journee_gaziere"] == "Journée gazière"

    outside = viewer_client.post(
        "/api/v1/grdf/export", {**body, "start": "2025-12-01", "format": "csv"}, format="json"
    )
    assert outside.status_code == 403 and PCE_ID in outside.json()["detail"]
    hourly = viewer_client.post(
        "/api/v1/grdf/export", {**body, "types": ["informatives_horaires"]}, format="json"
    )
    assert hourly.status_code == 403

    # One PCE spelled twice is one PCE; a malformed one is the caller's mistake.
    spelled = {**body, "pces": [PCE_ID, PCE_ID.lower()], "format": "csv"}
    assert viewer_client.post("/api/v1/grdf/export", spelled, format="json").status_code == 200
    bad = viewer_client.post("/api/v1/grdf/export", {**body, "pces": ["GI12"]}, format="json")
    assert bad.status_code == 400 and "pces" in field_errors(bad)


def test_thresholds_api(sim, tenant, operator_client, viewer_client) -> None:
    active_right(tenant)
    made = operator_client.post(
        "/api/v1/grdf/thresholds/",
        {"pce": PCE_ID, "frequency": "monthly", "value_kwh": 5000, "emails": ["a@acme.example"]},
        format="json",
    )
    assert made.status_code == 201, made.content
    assert viewer_client.get("/api/v1/grdf/thresholds/").json()["results"][0]["emails"] == [
        "a@acme.example"
    ]
    bad = operator_client.post(
        "/api/v1/grdf/thresholds/",
        {"pce": PCE_ID, "frequency": "weekly", "value_kwh": -1},
        format="json",
    )
    assert bad.status_code == 400 and {"frequency", "value_kwh"} <= set(field_errors(bad))
    infinite = operator_client.post(
        "/api/v1/grdf/thresholds/",
        {"pce": PCE_ID, "frequency": "daily", "value_kwh": "Infinity"},
        format="json",
    )
    assert infinite.status_code == 400 and "value_kwh" in field_errors(infinite)
    assert viewer_client.delete(f"/api/v1/grdf/thresholds/{made.json()['id']}/").status_code == 403
    gone = operator_client.delete(f"/api/v1/grdf/thresholds/{made.json()['id']}/")
    assert gone.status_code == 204 and not Threshold.objects.exists()


def test_sync_and_reports_endpoints(
    sim, tenant, operator_client, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from grdf_access import tasks

    monkeypatch.setattr(tasks, "_now", lambda: NOW)
    active_right(tenant)
    with django_capture_on_commit_callbacks(execute=False):
        queued = operator_client.post("/api/v1/grdf/sync", {}, format="json")
    assert queued.status_code == 202
    tasks.sync_job(job_id=queued.json()["id"])  # the worker's part
    done = operator_client.get(queued["Location"])
    assert done.json()["status"] == "succeeded" and done.json()["result"]["points"] > 0
    assert operator_client.get("/api/v1/grdf/reports/long-estimated").status_code == 200
    snapshots = operator_client.get(f"/api/v1/grdf/pces/{PCE_ID}/snapshots").json()["snapshots"]
    assert {s["kind"] for s in snapshots} == {"contractuelles", "techniques"}
    template = operator_client.get("/api/v1/grdf/rights/import/template")
    assert template.status_code == 200 and template.content.startswith(b"pce;role;")


def test_openapi_schema_lists_the_grdf_operations(api_client: APIClient, tenant) -> None:
    api_client.force_authenticate(tenant.viewer)
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    paths = set(schema["paths"])
    for path in (
        "/api/v1/grdf/rights/",
        "/api/v1/grdf/rights/{right_pk}/revoke",
        "/api/v1/grdf/rights/{right_pk}/proofs",
        "/api/v1/grdf/rights/import",
        "/api/v1/grdf/pces/{pce}/consumption",
        "/api/v1/grdf/export",
        "/api/v1/grdf/thresholds/",
    ):
        assert path in paths, path


def test_subscriptions_need_the_matching_consent(sim, tenant, foreign, operator_client) -> None:
    active_right(tenant)  # informative daily granted, hourly not
    tjdc = operator_client.post(
        "/api/v1/grdf/subscriptions/",
        {"pce": PCE_ID, "kind": "TJDC", "start": "2026-11-03"},
        format="json",
    )
    assert tjdc.status_code == 201, tjdc.content
    assert tjdc.json()["state"] == "active" and tjdc.json()["grdf_id"]
    pph = operator_client.post(
        "/api/v1/grdf/subscriptions/",
        {"pce": PCE_ID, "kind": "PPH", "start": "2026-11-03"},
        format="json",
    )
    assert pph.status_code == 400 and "hors consentement" in field_errors(pph)["kind"][0]
    twice = operator_client.post(
        "/api/v1/grdf/subscriptions/",
        {"pce": PCE_ID, "kind": "TJDC", "start": "2026-11-03"},
        format="json",
    )
    assert twice.status_code == 400
    cancelled = operator_client.post(f"/api/v1/grdf/subscriptions/{tjdc.json()['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    theirs = active_right(foreign, pce="GI999999")
    from grdf_access.models import Subscription

    sub = Subscription.objects.create(
        organisation=foreign.organisation, pce=theirs.pce, kind="TJDC", start=TODAY
    )
    assert operator_client.post(f"/api/v1/grdf/subscriptions/{sub.pk}/cancel").status_code == 404
