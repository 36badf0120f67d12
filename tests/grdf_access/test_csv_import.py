"""Mass declaration by CSV: every bad row reported with its line number, then all or nothing."""

from __future__ import annotations

import pytest

from grdf_access import csv_import
from grdf_access.models import AccessRight, Pce, RightState
from hub.models import AuditEvent
from tests.conftest import Tenant
from tests.grdf_access.conftest import TODAY, counters

pytestmark = pytest.mark.django_db

HEADER = ";".join(csv_import.COLUMNS)


def row(**values: str) -> str:
    base = {
        "pce": "GI111111",
        "role": "autorise",
        "raison_sociale": "Acme SA",
        "courriel_titulaire": "energie@acme.example",
        "code_postal": "75011",
        "debut_consentement": "01/10/2026",
        "fin_consentement": "31/12/2027",
        "debut_donnees": "01/01/2026",
        "fin_donnees": "31/12/2027",
        "publiees": "oui",
        "informatives_journalieres": "oui",
        "informatives_horaires": "non",
        "contractuelles": "oui",
        "techniques": "oui",
        "libelle_site": "Appel d'offres #1",
    }
    base.update(values)
    return ";".join(base.get(c, "") for c in csv_import.COLUMNS)


def csv(*rows: str) -> bytes:
    return ("\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n").encode()


def test_template_passes_its_own_dry_run(tenant: Tenant) -> None:
    parsed = csv_import.parse(
        csv_import.template(today=TODAY).encode(), organisation=tenant.organisation, today=TODAY
    )
    assert parsed.ok, parsed.errors
    assert parsed.specs[0][1].pce == "GI123456"


def test_bad_rows_are_reported_with_their_line_numbers(tenant: Tenant) -> None:
    content = csv(
        row(pce="GI111111"),  # line 2: fine
        row(pce="GI12345"),  # line 3: PCE format
        row(pce="GI222222", code_postal="7501"),  # line 4: postcode
        row(pce="GI333333", raison_sociale="", nom_titulaire=""),  # line 5: no holder name
        row(pce="GI444444", debut_consentement="31/02/2026"),  # line 6: not a date
        row(pce="GI555555", fin_donnees="31/12/2028"),  # line 7: data after consent end
        row(pce="GI111111"),  # line 8: duplicate of line 2
        row(pce="GI666666", publiees="peut-être"),  # line 9: not a boolean
    )
    parsed = csv_import.parse(content, organisation=tenant.organisation, today=TODAY)
    found = {(e.line, e.field) for e in parsed.errors}
    assert found == {
        (3, "pce"),
        (4, "code_postal"),
        (5, "nom_titulaire"),
        (6, "debut_consentement"),
        (7, "fin_donnees"),
        (8, "pce"),
        (9, "publiees"),
    }
    assert "ligne 2" in next(e.reason for e in parsed.errors if e.line == 8)
    assert not parsed.ok


def test_header_problems_are_line_one(tenant: Tenant) -> None:
    parsed = csv_import.parse(
        b"pce;role;colonne_inconnue\nGI111111;autorise;x\n",
        organisation=tenant.organisation,
        today=TODAY,
    )
    assert {e.line for e in parsed.errors} == {1}
    assert any("code_postal" in e.reason for e in parsed.errors)
    assert any("colonne_inconnue" in e.reason for e in parsed.errors)


def test_comma_separated_and_iso_dates_are_accepted(tenant: Tenant) -> None:
    values = row(debut_consentement="2026-10-01").split(";")
    content = (",".join(csv_import.COLUMNS) + "\n" + ",".join(values) + "\n").encode()
    parsed = csv_import.parse(content, organisation=tenant.organisation, today=TODAY)
    assert parsed.ok, parsed.errors


def test_import_through_the_api_is_all_or_nothing(
    sim: None, tenant: Tenant, operator_client
) -> None:
    bad = csv(row(pce="GI111111"), row(pce="GI222222", code_postal="ABCDE"))
    response = operator_client.post(
        "/api/v1/grdf/rights/import",
        {"file": _upload(bad), "dry_run": "false"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "line": 3,
            "field": "code_postal",
            "pointer": "#/file",
            "reason": "code postal invalide « ABCDE » (5 chiffres)",
        }
    ]
    assert not AccessRight.objects.exists() and not Pce.objects.exists()
    assert counters()["declarations"] == 0

    good = csv(row(pce="GI111111"), row(pce="GI222222", role="titulaire"))
    dry = operator_client.post(
        "/api/v1/grdf/rights/import", {"file": _upload(good)}, format="multipart"
    )
    assert dry.status_code == 200 and dry.json() == {"rows": 2, "errors": [], "dry_run": True}
    assert not AccessRight.objects.exists()

    done = operator_client.post(
        "/api/v1/grdf/rights/import",
        {"file": _upload(good), "dry_run": "false"},
        format="multipart",
    )
    assert done.status_code == 201, done.content
    states = dict(AccessRight.objects.values_list("pce__metering_point__identifier", "state"))
    # A third party waits for the holder; a holder is Active at once (reference §1.6).
    assert states == {"GI111111": RightState.TO_VALIDATE, "GI222222": RightState.ACTIVE}
    assert counters()["declarations"] == 2
    assert AuditEvent.objects.filter(action="grdf.right.declared").count() == 2
    assert Pce.objects.get(metering_point__identifier="GI111111").site_label == "Appel d'offres #1"


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("droits.csv", content, content_type="text/csv")


def test_template_and_history_limit_on_29_february(tenant: Tenant) -> None:
    import datetime as dt

    leap = dt.date(2028, 2, 29)
    parsed = csv_import.parse(
        csv_import.template(today=leap).encode(), organisation=tenant.organisation, today=leap
    )
    assert parsed.ok, parsed.errors
    too_old = csv(
        row(
            debut_donnees="27/02/2023",  # more than five years before 29/02/2028
            debut_consentement="01/02/2028",
            fin_consentement="31/12/2028",
            fin_donnees="31/12/2028",
        )
    )
    errors = csv_import.parse(too_old, organisation=tenant.organisation, today=leap).errors
    assert [(e.line, e.field) for e in errors] == [(2, "debut_donnees")]


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02binary", b"\x81\x8d\x8f\x90\x9d", b'pce;role\n"GI111111;autorise\n'],
)
def test_unreadable_files_are_reported_not_crashed(tenant: Tenant, content: bytes) -> None:
    parsed = csv_import.parse(content, organisation=tenant.organisation, today=TODAY)
    assert parsed.errors and not parsed.specs


def test_a_quoted_field_over_two_lines_keeps_line_numbers(tenant: Tenant) -> None:
    multi = row(pce="GI111111", libelle_site='"Site\nsur deux lignes"')
    content = csv(multi, row(pce="GI222222", code_postal="1"))
    errors = csv_import.parse(content, organisation=tenant.organisation, today=TODAY).errors
    assert [(e.line, e.field) for e in errors] == [(4, "code_postal")]


def test_hourly_data_cannot_be_declared_without_rsf(tenant: Tenant, settings) -> None:
    """Reference grdf-adict.md §1.4 and §3.4: ADICT v2 declares four data scopes and has no
    hourly endpoint; hourly data come with RSF only."""
    parsed = csv_import.parse(
        csv(row(informatives_horaires="oui")), organisation=tenant.organisation, today=TODAY
    )
    assert not parsed.ok
    assert any("horaires" in str(error) for error in parsed.errors)
    settings.GRDF_RSF = True
    parsed = csv_import.parse(
        csv(row(informatives_horaires="oui")), organisation=tenant.organisation, today=TODAY
    )
    assert parsed.ok, parsed.errors
