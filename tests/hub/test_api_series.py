"""The series API: ranges, resampling on DST days, writes, roles, bad input answering 400."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.clock import local_day_bounds
from hub.models import Point, SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points
from tests.api_problems import field_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def series(tenant):
    series = ensure_series(
        metering_point=tenant.point,
        quantity="active_energy_import",
        unit="Wh",
        source="test",
        kind=SeriesKind.INTERVAL,
        step_seconds=900,
    )
    start, end = local_day_bounds(dt.date(2026, 10, 25))
    count = int((end - start).total_seconds() // 900)
    upsert_points(
        series=series,
        points=[PointIn(start + dt.timedelta(minutes=15 * i), 1.0) for i in range(count)],
    )
    return series


def points_url(series):
    return f"/api/v1/series/{series.pk}/points/"


def test_hourly_points_of_the_long_day(token_client, series):
    response = token_client.get(
        points_url(series),
        {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00", "step": "1h"},
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["points"]) == 25
    assert body["aggregate"] == "sum" and body["unit"] == "Wh"
    assert body["points"][0] == {
        "ts": "2026-10-24T22:00:00Z",
        "value": 4.0,
        "count": 4,
        "quality": 0,
    }


def test_daily_point_of_the_long_day(token_client, series):
    response = token_client.get(
        points_url(series),
        {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00", "step": "1d"},
    )
    assert [p["value"] for p in response.json()["points"]] == [100.0]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "yesterday", "end": "2026-10-26T00:00:00Z"}, "start"),
        ({"start": "2026-10-26T00:00:00Z", "end": "2026-10-25T00:00:00Z"}, "end"),
        ({"start": "2026-10-25T00:00:00Z", "end": "2026-10-26T00:00:00Z", "step": "7min"}, "step"),
        (
            {"start": "2026-10-25T00:00:00Z", "end": "2026-10-26T00:00:00Z", "aggregate": "median"},
            "aggregate",
        ),
        ({"end": "2026-10-26T00:00:00Z"}, "start"),
    ],
)
def test_bad_query_answers_400_naming_the_field(token_client, series, params, field):
    response = token_client.get(points_url(series), params)
    assert response.status_code == 400
    assert field in field_errors(response)


def test_operator_writes_points_and_replay_changes_nothing(operator_client, series):
    payload = {
        "points": [
            {"ts": "2026-03-29T01:00:00Z", "value": 5.5},
            {"ts": "2026-03-29T04:00:00+02:00", "value": 6.5, "quality": 1},
        ]
    }
    first = operator_client.post(points_url(series), payload, format="json")
    again = operator_client.post(points_url(series), payload, format="json")
    assert (first.status_code, first.json()) == (200, {"received": 2, "written": 2})
    assert again.json() == {"received": 2, "written": 0}


def test_viewer_cannot_write(viewer_client, series):
    response = viewer_client.post(
        points_url(series), {"points": [{"ts": "2026-03-29T01:00:00Z", "value": 1}]}, format="json"
    )
    assert response.status_code == 403


def test_bad_point_answers_400_with_its_index_and_stores_nothing(operator_client, series):
    before = Point.objects.count()
    payload = {
        "points": [
            {"ts": "2026-03-29T01:00:00Z", "value": 1},
            {"ts": "2026-03-29T02:00:00Z", "value": "lots"},
        ]
    }
    response = operator_client.post(points_url(series), payload, format="json")
    assert response.status_code == 400
    # Errors point at the point's index: #/points/1/value.
    assert "points[1].value" in field_errors(response)
    assert response.json()["errors"][0]["pointer"] == "#/points/1/value"
    assert Point.objects.count() == before


def test_metering_point_creation_validates_the_identifier(operator_client):
    bad = operator_client.post(
        "/api/v1/metering-points/", {"kind": "gas_pce", "identifier": "GI12"}, format="json"
    )
    assert bad.status_code == 400 and "identifier" in field_errors(bad)
    good = operator_client.post(
        "/api/v1/metering-points/", {"kind": "gas_pce", "identifier": "gi 123456"}, format="json"
    )
    assert good.status_code == 201 and good.json()["identifier"] == "GI123456"
    again = operator_client.post(
        "/api/v1/metering-points/", {"kind": "gas_pce", "identifier": "GI123456"}, format="json"
    )
    assert again.status_code == 400


def test_foreign_series_answers_404(token_client, foreign):
    other = ensure_series(metering_point=foreign.point, quantity="x", unit="W", source="t")
    response = token_client.get(
        points_url(other), {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    )
    assert response.status_code == 404


def test_foreign_site_cannot_be_attached(operator_client, foreign):
    from hub.models import Site

    site = Site.objects.create(organisation=foreign.organisation, name="theirs")
    response = operator_client.post(
        "/api/v1/metering-points/",
        {"kind": "gas_pce", "identifier": "GI123457", "site": site.pk},
        format="json",
    )
    assert response.status_code == 400 and "site" in field_errors(response)


def test_lists_show_only_the_callers_organisation(token_client, tenant, foreign):
    ids = [p["identifier"] for p in token_client.get("/api/v1/metering-points/").json()["results"]]
    assert ids == [tenant.point.identifier]


def test_anonymous_gets_401_or_403(api_client):
    assert api_client.get("/api/v1/metering-points/").status_code in (401, 403)


def test_schema_and_docs_are_served(api_client):
    schema = api_client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3.0" in schema.content
    assert api_client.get("/api/docs/").status_code == 200


@pytest.mark.parametrize("value", ["-5.4939785816974855e+267", "1.5", "0", str(2**63), "abc"])
def test_an_id_filter_takes_only_an_id(token_client, series, value):
    """Found by the schema fuzzer on SQLite: a float id (-5.49e+267) reached the database,
    which cannot bind it (500). An id is a whole number a key can hold, else 400 naming it."""
    for url, name in (("/api/v1/series/", "metering_point"), ("/api/v1/metering-points/", "site")):
        response = token_client.get(url, {name: value})
        assert response.status_code == 400, (url, value, response.content)
        assert list(field_errors(response)) == [name]


def test_an_id_filter_still_filters(token_client, series):
    response = token_client.get("/api/v1/series/", {"metering_point": series.metering_point_id})
    assert [row["id"] for row in response.json()["results"]] == [series.pk]
    assert token_client.get("/api/v1/series/", {"metering_point": 2**63 - 1}).json()["count"] == 0


def test_a_list_without_its_filters_skips_the_filter_set(token_client, series, monkeypatch):
    """The filter set is built only when the query names one of its filters: without any, it
    would filter nothing (hub.api.filters), and with one it still filters and refuses."""
    from hub.api import views

    built: list[object] = []
    real = views.SeriesFilter.__init__

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append(self)
        real(self, *args, **kwargs)

    monkeypatch.setattr(views.SeriesFilter, "__init__", spy)
    assert token_client.get("/api/v1/series/", {"limit": 5, "other": "x"}).status_code == 200
    assert built == []
    response = token_client.get("/api/v1/series/", {"metering_point": series.metering_point_id})
    assert [row["id"] for row in response.json()["results"]] == [series.pk]
    assert len(built) == 1
    assert token_client.get("/api/v1/series/", {"metering_point": "x"}).status_code == 400


def test_a_filter_sets_form_class_is_built_once():
    from hub.api.views import SeriesFilter

    first = SeriesFilter(data={"source": "a"}).form
    second = SeriesFilter(data={"source": "b"}).form
    assert type(first) is type(second)
    # Each form still has fields of its own: one request's data never reaches another's.
    assert first.fields["source"] is not second.fields["source"]
    assert first.is_valid() and second.is_valid()
    assert (first.cleaned_data["source"], second.cleaned_data["source"]) == ("a", "b")
