"""Long-estimated PCEs (seed 000 §05): "Demande fournisseur de relevé spécial gratuite 2 fois par
an si au moins une estimation au cours des 12 derniers mois" and "mise à disposition mensuelle
sur PFO des listes des PCE en estimation longue"."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grdf_access.sync import series_ids
from grdf_access.vega import estimates
from grdf_access.vega.models import SpecialReadingRequest
from hub.actors import Actor
from hub.clock import gas_day_bounds
from hub.models import AuditEvent, Quality
from hub.services.series import upsert_rows
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right

ESTIMATED_PCE = PCE_ID
MEASURED_PCE = "GI888888"


def readings(right, months_estimated: tuple[int, ...]) -> None:
    [sid] = series_ids([right.pce.pk], ["published_energy"]).values()
    rows = []
    for month in range(1, 11):
        quality = Quality.ESTIMATED if month in months_estimated else Quality.MEASURED
        rows.append((sid, gas_day_bounds(dt.date(2026, month, 1))[0], 100.0, quality, False))
    upsert_rows(rows=rows)


@pytest.fixture
def pces(tenant):
    estimated = active_right(tenant, pce=ESTIMATED_PCE)
    readings(estimated, (5, 6, 7, 8, 9, 10))
    measured = active_right(tenant, pce=MEASURED_PCE)
    readings(measured, ())
    return estimated, measured


def by_pce(tenant) -> dict[str, estimates.Eligibility]:
    rows = estimates.eligibility(organisation=tenant.organisation, today=TODAY)
    return {r.pce.identifier: r for r in rows}


@pytest.mark.django_db
def test_eligibility_from_stored_quality_flags(pces, tenant):
    rows = by_pce(tenant)
    assert rows[ESTIMATED_PCE].status == "eligible"
    assert rows[ESTIMATED_PCE].estimated_readings == 6
    assert rows[ESTIMATED_PCE].last_estimated == dt.date(2026, 10, 1)
    assert rows[ESTIMATED_PCE].hub_long_estimated
    assert rows[MEASURED_PCE].status == "non_eligible"
    acted = estimates.to_act_on(organisation=tenant.organisation, today=TODAY)
    assert [r.pce.identifier for r in acted] == [ESTIMATED_PCE]


@pytest.mark.django_db
def test_estimations_outside_the_consent_are_not_read(pces, tenant):
    estimated, _ = pces
    estimated.state = "Revoquee"
    estimated.save()
    assert by_pce(tenant)[ESTIMATED_PCE].status == "hors_consentement"


@pytest.mark.django_db
def test_two_free_requests_a_year(pces, tenant):
    estimated, measured = pces
    for day in (dt.date(2026, 6, 1), dt.date(2026, 10, 15)):
        estimates.record_request(
            organisation=tenant.organisation,
            pce=estimated.pce,
            requested_on=day,
            actor=Actor.person(tenant.operator),
            now=NOW,
            today=TODAY,
        )
    assert by_pce(tenant)[ESTIMATED_PCE].status == "plafond_atteint"
    with pytest.raises(estimates.RequestRefused, match="déjà demandés"):
        estimates.record_request(
            organisation=tenant.organisation,
            pce=estimated.pce,
            requested_on=TODAY,
            now=NOW,
            today=TODAY,
        )
    with pytest.raises(estimates.RequestRefused, match="aucune estimation"):
        estimates.record_request(
            organisation=tenant.organisation,
            pce=measured.pce,
            requested_on=TODAY,
            now=NOW,
            today=TODAY,
        )
    assert SpecialReadingRequest.objects.count() == 2
    assert AuditEvent.objects.filter(action="grdf.vega.special_reading").count() == 2
    # A new calendar year gives two new free requests.
    row = {
        r.pce.identifier: r
        for r in estimates.eligibility(organisation=tenant.organisation, today=dt.date(2027, 1, 5))
    }[ESTIMATED_PCE]
    assert row.remaining == 2


def test_grdf_list_import_reports_bad_rows_by_line():
    data = (
        b"pce;date_dernier_releve_reel;mois_estimes\n"
        b"GI888888;01/02/2025;14\n"
        b"not-a-pce;;\n"
        b"GI777777;2025-13-01;3\n"
        b"GI888888;;\n"
        b"GI666666;;douze\n"
    )
    rows, errors = estimates.parse_list(data)
    assert [r.pce for r in rows] == ["GI888888"]
    assert [(e.line, e.field) for e in errors] == [
        (3, "pce"),
        (4, "date_dernier_releve_reel"),
        (5, "pce"),
        (6, "mois_estimes"),
    ]


@pytest.mark.django_db
def test_differences_between_grdf_list_and_hub_report(pces, tenant):
    rows, errors = estimates.parse_list(b"pce\nGI888888\nGI000001\n")
    assert errors == []
    estimates.import_list(
        organisation=tenant.organisation,
        month=dt.date(2026, 10, 1),
        file_name="liste.csv",
        rows=rows,
        now=NOW,
    )
    diff = estimates.differences(organisation=tenant.organisation, today=TODAY)
    assert diff.only_hub == [ESTIMATED_PCE]
    assert diff.only_grdf == [MEASURED_PCE]
    assert diff.unknown_to_hub == ["GI000001"]
    assert diff.both == []
    # GRDF's list makes the PCE it names eligible, even with no estimation stored here.
    assert by_pce(tenant)[MEASURED_PCE].status == "eligible"


@given(st.binary(max_size=400))
def test_grdf_list_parser_reports_instead_of_failing(data):
    rows, errors = estimates.parse_list(data)
    assert all(e.line >= 0 and e.reason for e in errors)
    assert len({r.pce for r in rows}) == len(rows)
