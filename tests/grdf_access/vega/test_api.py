"""``/api/v1/grdf/vega/…``: tenant-scoped, writes need the write scope and are audited, bad input
is a 400 naming the field, exports typed."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rest_framework.test import APIClient

from grdf_access.vega.models import Release, Usage
from grdf_access.vega.parsers.synthetic import HEADER
from hub.models import AuditEvent
from hub.services.tokens import create_token
from tests.api_problems import field_errors

pytestmark = pytest.mark.django_db
BASE = "/api/v1/grdf/vega"


def client_with(tenant, scopes: list[str]) -> APIClient:
    issued = create_token(
        organisation=tenant.organisation, name=f"t-{'-'.join(scopes)}", scopes=scopes
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


def test_catalogue_and_releases_are_readable(viewer_client):
    items = viewer_client.get(f"{BASE}/catalogue").json()["results"]
    assert len([i for i in items if i["kind"] == "flux"]) == 24
    sdem = next(i for i in items if i["code"] == "SDEM")
    assert sdem["releases"] == {"V24.1": "V14", "V26.1": "X", "V27.1": "(fin V14)"}
    assert sdem["double_run"] == "V26.1 → V27.1"
    releases = {r["code"]: r for r in viewer_client.get(f"{BASE}/releases").json()["results"]}
    assert len(releases["V26.1"]["history"]) == 2


def test_usage_needs_write_scope_and_is_audited(tenant):
    reader = client_with(tenant, ["read"])
    body = {"code": "SDEM", "version": "V14"}
    assert reader.post(f"{BASE}/usages/", body, format="json").status_code == 403
    writer = client_with(tenant, ["write"])
    made = writer.post(f"{BASE}/usages/", body, format="json")
    assert made.status_code == 201, made.content
    assert AuditEvent.objects.filter(action="grdf.vega.usage.save").count() == 1
    pk = made.json()["id"]
    bad = writer.put(f"{BASE}/usages/{pk}/", {"code": "SDEM", "version": "V2"}, format="json")
    assert bad.status_code == 400 and "version" in field_errors(bad)
    unknown = writer.post(f"{BASE}/usages/", {"code": "NOPE", "version": "V1"}, format="json")
    assert unknown.status_code == 400 and "code" in field_errors(unknown)
    assert writer.delete(f"{BASE}/usages/{pk}/").status_code == 204
    assert not Usage.objects.exists()
    assert AuditEvent.objects.filter(action="grdf.vega.usage.delete").count() == 1


def test_another_organisations_usage_is_404(tenant, foreign):
    client_with(foreign, ["write"]).post(
        f"{BASE}/usages/", {"code": "SDEM", "version": "V14"}, format="json"
    )
    theirs = Usage.objects.get()
    mine = client_with(tenant, ["write"])
    assert mine.get(f"{BASE}/usages/{theirs.pk}/").status_code == 404
    assert mine.get(f"{BASE}/usages/").json()["results"] == []
    assert mine.get(f"{BASE}/migration").json()["results"] == []


def test_migration_export_has_typed_cells(tenant):
    from openpyxl import load_workbook

    release = Release.objects.get(code="V27.1")
    release.planned_date = dt.date(2027, 3, 1)
    release.date_status = "confirmed"
    release.save()
    writer = client_with(tenant, ["write"])
    writer.post(f"{BASE}/usages/", {"code": "SDEM", "version": "V14"}, format="json")
    csv_text = writer.get(f"{BASE}/migration", {"export": "csv"}).content.decode()
    assert csv_text.splitlines()[1].startswith("SDEM;flux;V14;V26.1;V27.1;non;2027-03-01;")
    book = load_workbook(io.BytesIO(writer.get(f"{BASE}/migration", {"export": "xlsx"}).content))
    row = next(iter(book.active.iter_rows(min_row=2, values_only=True)))
    assert row[6] == dt.datetime(2027, 3, 1) and isinstance(row[8], int)
    assert writer.get(f"{BASE}/migration", {"export": "pdf"}).status_code == 400


def test_expected_and_upload(tenant):
    writer = client_with(tenant, ["write"])
    bad = writer.post(
        f"{BASE}/expected/",
        {"code": "REJJ", "cadence": "monthly", "expected_time": "08:00"},
        format="json",
    )
    assert bad.status_code == 400 and "day_of_month" in field_errors(bad)
    ws = writer.post(
        f"{BASE}/expected/",
        {"code": "SuiviDemande", "cadence": "daily", "expected_time": "08:00"},
        format="json",
    )
    assert ws.status_code == 400 and "flux" in field_errors(ws)
    ok = writer.post(
        f"{BASE}/expected/",
        {"code": "REJJ", "cadence": "working_days", "expected_time": "08:00"},
        format="json",
    )
    assert ok.status_code == 201
    content = (";".join(HEADER) + "\n").encode()
    upload = io.BytesIO(content)
    upload.name = "REJJ_VSYNTH_20261028.csv"
    made = writer.post(f"{BASE}/arrivals/", {"file": upload}, format="multipart")
    assert made.status_code == 201, made.content
    assert [i["code"] for i in made.json()["issues"]] == ["sans_donnees"]
    again = io.BytesIO(content)
    again.name = "copie.csv"
    dup = writer.post(f"{BASE}/arrivals/", {"file": again}, format="multipart")
    assert dup.status_code == 400 and "file" in field_errors(dup)
    assert AuditEvent.objects.filter(action="grdf.vega.arrival").count() == 1


def test_long_estimated_import_reports_lines(tenant):
    writer = client_with(tenant, ["write"])
    upload = io.BytesIO(b"pce\nGI123456\nbad\n")
    upload.name = "liste.csv"
    answer = writer.post(
        f"{BASE}/long-estimated/import", {"file": upload, "mois": "2026-10"}, format="multipart"
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["line"] == 3
    upload = io.BytesIO(b"pce\nGI123456\n")
    upload.name = "liste.csv"
    answer = writer.post(
        f"{BASE}/long-estimated/import", {"file": upload, "mois": "2026-10"}, format="multipart"
    )
    assert answer.status_code == 201
    diff = writer.get(f"{BASE}/long-estimated").json()["differences"]
    assert diff["inconnus_du_hub"] == ["GI123456"]
    bad = writer.post(
        f"{BASE}/long-estimated/requests",
        {"pce": "GI123456", "requested_on": "2026-10-01"},
        format="json",
    )
    assert bad.status_code == 404  # not one of the organisation's PCEs


def test_far_past_request_date_is_a_400(tenant):
    from grdf_access.services import ensure_pce

    ensure_pce(organisation=tenant.organisation, identifier="GI123456")
    writer = client_with(tenant, ["write"])
    answer = writer.post(
        f"{BASE}/long-estimated/requests",
        {"pce": "GI123456", "requested_on": "0001-01-01"},
        format="json",
    )
    assert answer.status_code == 400 and "requested_on" in field_errors(answer)


def test_the_documented_examples_have_the_answers_shape(tenant):
    """An OpenAPI example names the keys the operation really answers (issue 19.5); the
    example bodies are accepted."""
    from grdf_access.vega import api_examples as ex
    from tests.api_examples import shape_mismatches

    writer = client_with(tenant, ["write"])
    usage = writer.post(f"{BASE}/usages/", ex.USAGE_IN, format="json")
    expected = writer.post(f"{BASE}/expected/", ex.EXPECTED_IN, format="json")
    upload = io.BytesIO(b"pce\n21547896321458\n")
    upload.name = ex.LIST_IMPORT_IN["file"]
    imported = writer.post(
        f"{BASE}/long-estimated/import",
        {"file": upload, "mois": ex.LIST_IMPORT_IN["mois"]},
        format="multipart",
    )
    catalogue = writer.get(f"{BASE}/catalogue").json()["results"]
    releases = writer.get(f"{BASE}/releases").json()["results"]
    answers = {
        "usage": (usage.json(), ex.USAGE),
        "expected": (expected.json(), ex.EXPECTED),
        "import": (imported.json(), ex.LIST_IMPORTED),
        "catalogue": (next(i for i in catalogue if i["code"] == "TJDC"), ex.CATALOGUE_ITEM),
        "release": (next(r for r in releases if r["code"] == "V26.3"), ex.RELEASE),
        "usages": (writer.get(f"{BASE}/usages/").json()["results"], [ex.USAGE]),
        "expected list": (writer.get(f"{BASE}/expected/").json()["results"], [ex.EXPECTED]),
        "migration": (writer.get(f"{BASE}/migration").json()["results"], [ex.MIGRATION_ROW]),
        "long-estimated": (
            # Not a list: the eligible PCEs beside GRDF's differences, in one answer.
            writer.get(f"{BASE}/long-estimated").json(),
            ex.LONG_ESTIMATED,
        ),
    }
    assert (usage.status_code, expected.status_code, imported.status_code) == (201, 201, 201)
    wrong = {name: shape_mismatches(example, body) for name, (body, example) in answers.items()}
    assert wrong == {name: [] for name in answers}
