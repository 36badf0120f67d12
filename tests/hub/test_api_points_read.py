"""The raw JSON read of a series' points: the series with a remembered token's check, then its
points streamed, and none read before every check has passed; the same bytes as the encoding
of every other path; a token revoked or changed elsewhere stops working at once."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.db import connection
from django.utils import timezone

from hub import series_access
from hub.api import points_output
from hub.clock import local_day_bounds
from hub.models import ApiToken, Point, Quality, Series, SeriesKind
from hub.quantities import ACTIVE_POWER_IMPORT
from hub.services.series import PointIn, ensure_series, upsert_points
from tests.conftest import require

pytestmark = pytest.mark.django_db

TRICKY = [
    0.1 + 0.2,
    -2.5,
    1.0,
    0.0,
    -0.0,
    123456.789,
    -0.001,
    1e-5,
    1.5e-5,
    1e-7,
    1e15,
    1234567890123456.7,
    1e16,
    2.6056219827948552e16,
    -1e20,
    -5e-324,
]


@pytest.fixture
def client(remembering_client):
    return remembering_client


@pytest.fixture
def series(tenant):
    return ensure_series(
        metering_point=tenant.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
        step_seconds=1800,
    )


def dst_days(series: Series) -> tuple[dt.datetime, dt.datetime]:
    """Half-hourly points over the short and the long Paris days of 2026, with tricky values."""
    start, _ = local_day_bounds(dt.date(2026, 3, 29))
    _, end = local_day_bounds(dt.date(2026, 10, 25))
    points = []
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25)):
        first, last = local_day_bounds(day)
        ts, i = first, 0
        while ts < last:
            if i % 7 == 3:
                points.append(PointIn(ts, None, quality=Quality.MISSING))
            else:
                value = TRICKY[i % len(TRICKY)]
                points.append(PointIn(ts, value, quality=i % 3, provisional=i % 2 == 0))
            ts += dt.timedelta(minutes=30)
            i += 1
    points.append(PointIn(start + dt.timedelta(hours=5, microseconds=5), 7.25))
    points.append(PointIn(start + dt.timedelta(hours=6, microseconds=500_000), -7.25))
    upsert_points(series=series, points=points)
    return start, end


def former_encoding(series: Series, start: dt.datetime, end: dt.datetime) -> bytes:
    """The body as the API wrote it before the read was folded: one dict a row, orjson."""
    rows = (
        Point.objects.filter(series=series, ts__gte=start, ts__lt=end)
        .order_by("ts")
        .values_list("ts", "value", "quality")
    )
    return orjson.dumps(
        {
            "series": series.pk,
            "unit": series.unit,
            "step": "raw",
            "aggregate": None,
            "points": [{"ts": t, "value": v, "count": 1, "quality": q} for t, v, q in rows],
        },
        option=orjson.OPT_UTC_Z,
    )


def test_body_is_the_former_encoding_byte_for_byte(client, series):
    start, end = dst_days(series)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    body = client.get(f"/api/v1/series/{series.pk}/points/", params).content
    assert body == former_encoding(series, start, end)
    # The general path (a series filter in the query string) writes the same bytes.
    general = client.get(f"/api/v1/series/{series.pk}/points/", {**params, "source": "test"})
    assert general.content == body
    points = orjson.loads(body)["points"]
    assert len(points) == 23 * 2 + 25 * 2 + 2
    assert b'"value":0.30000000000000004' in body
    assert b'"value":null,"count":1,"quality":3' in body
    assert b'"ts":"2026-03-29T00:00:00Z"' in body  # 02:00 Paris, just after the change
    assert b'"ts":"2026-10-25T01:00:00Z"' in body  # the second 02:00 Paris
    assert b'"ts":"2026-03-29T04:00:00.000005Z"' in body
    assert b'"ts":"2026-03-29T05:00:00.500000Z"' in body


def test_a_points_read_is_two_queries(client, series, django_assert_num_queries):
    require(connection.vendor == "postgresql", "the streamed read is PostgreSQL's")
    start, end = dst_days(series)
    url = f"/api/v1/series/{series.pk}/points/"
    params = {"start": start.isoformat(), "end": end.isoformat()}
    # The series with the token's check, then its points; the token found by the ping. (The
    # statement that ends the stream's chunked mode, hub.postgresql, is not Django's.)
    with django_assert_num_queries(2):
        response = client.get(url, params)
    assert response.status_code == 200
    # A foreign or unknown series: the series query alone, a 404, no points query.
    with django_assert_num_queries(1):
        assert client.get("/api/v1/series/999999/points/", params).status_code == 404


@pytest.mark.parametrize("pk", [2**63 - 1, 2**63, 934711095087867887616])
def test_an_id_no_key_can_hold_is_a_404(client, pk):
    # Found by the schema fuzzer: the one-trip read's SQL cast such an id and failed (a 500).
    params = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"}
    assert client.get(f"/api/v1/series/{pk}/points/", params).status_code == 404


@pytest.fixture
def foreign_series(foreign):
    """A series of another organisation."""
    return ensure_series(
        metering_point=foreign.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
    )


def test_foreign_series_is_404(client, foreign_series):
    other = foreign_series
    upsert_points(series=other, points=[PointIn(dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1.0)])
    response = client.get(
        f"/api/v1/series/{other.pk}/points/",
        {"start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z"},
    )
    assert response.status_code == 404
    assert b'"unit"' not in response.content


@pytest.mark.parametrize(
    "change",
    [
        {"revoked_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
        {"expires_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)},
    ],
)
@pytest.mark.parametrize(
    "query",
    [
        {"start": "2026-03-29T00:00:00+01:00", "end": "2026-03-30T00:00:00+02:00"},
        {"start": "2026-03-29T00:00:00+01:00", "end": "2026-03-30T00:00:00+02:00", "step": "1h"},
        {"start": "not a date", "end": "2026-03-30T00:00:00+02:00"},
    ],
)
def test_a_token_revoked_elsewhere_stops_reading_at_once(client, issued, series, change, query):
    dst_days(series)
    url = f"/api/v1/series/{series.pk}/points/"
    assert client.get(url, query).status_code in (200, 400)
    # Another process revokes (or expires) the token: this one still remembers it as usable.
    ApiToken.objects.filter(pk=issued.token.pk).update(**change)
    response = client.get(url, query)
    assert response.status_code == 401
    assert b'"unit"' not in response.content
    assert client.get("/api/v1/series/999999/points/", query).status_code == 401


def test_a_token_narrowed_elsewhere_is_checked_again(client, issued, series):
    start, end = dst_days(series)
    url = f"/api/v1/series/{series.pk}/points/"
    params = {"start": start.isoformat(), "end": end.isoformat()}
    assert client.get(url, params).status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(allowed_networks=["10.0.0.0/8"])
    assert client.get(url, params).status_code == 403
    ApiToken.objects.filter(pk=issued.token.pk).update(allowed_networks=[], scopes=["write"])
    assert client.get(url, params).status_code == 200
    ApiToken.objects.filter(pk=issued.token.pk).update(
        scopes=["read"], expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert client.get(url, params).status_code == 200


def test_the_body_does_not_depend_on_the_sessions_time_zone(client, series):
    require(connection.vendor == "postgresql", "the session's zone is PostgreSQL's")
    start, end = dst_days(series)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Paris'")
    try:
        fast = client.get(f"/api/v1/series/{series.pk}/points/", params).content
        general = client.get(
            f"/api/v1/series/{series.pk}/points/", {**params, "source": "test"}
        ).content
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
    assert fast == general == former_encoding(series, start, end)


@pytest.fixture
def points_read(monkeypatch):
    """The number of rows each points query of a call sent (counted as they are read, until
    the stream ends)."""
    counts: list[int] = []
    real = points_output._points_cursor

    def counted():
        cursor = real()
        close = cursor.close

        def close_counted():
            counts.append(sum(1 for _ in cursor.cursor.rows) + read[0])
            close()

        read = [0]
        execute = cursor.execute

        def execute_counted(*args):
            execute(*args)
            chunks = cursor.cursor.chunks

            def counting():
                for chunk in chunks:
                    read[0] += len(chunk)
                    yield chunk

            cursor.cursor._chunks = counting()

        cursor.execute = execute_counted
        cursor.close = close_counted
        return cursor

    monkeypatch.setattr(points_output, "_points_cursor", counted)
    return counts


def test_the_points_query_reads_nothing_the_call_may_not_see(
    client, issued, series, foreign_series, points_read, monkeypatch
):
    require(connection.vendor == "postgresql", "the streamed read is PostgreSQL's")
    start, end = dst_days(series)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    other = foreign_series
    upsert_points(series=other, points=[PointIn(start, 1.0)])
    body = client.get(f"/api/v1/series/{series.pk}/points/", params).content
    assert points_read == [len(orjson.loads(body)["points"])] == [23 * 2 + 25 * 2 + 2]
    # Another organisation's series: no points query at all.
    assert client.get(f"/api/v1/series/{other.pk}/points/", params).status_code == 404
    # A source whose reads a guard decides: the guard is asked first.
    monkeypatch.setitem(series_access._guards, "test", lambda *args: "outside the consent")
    assert client.get(f"/api/v1/series/{series.pk}/points/", params).status_code == 403
    monkeypatch.delitem(series_access._guards, "test")
    # A token revoked elsewhere while this process remembers it.
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())
    assert client.get(f"/api/v1/series/{series.pk}/points/", params).status_code == 401
    assert points_read == [23 * 2 + 25 * 2 + 2]  # only the first call's


def test_the_points_query_checks_the_token_again(issued, series, points_read):
    """The token's check is in the points query as well as in the series': a token revoked
    between the two (another process, meanwhile) reads no point."""
    require(connection.vendor == "postgresql", "the streamed read is PostgreSQL's")
    from hub.services import tokens

    start, end = dst_days(series)
    token = ApiToken.objects.get(pk=issued.token.pk)
    read = points_output.series_and_raw_points(
        scoped=Series.objects.filter(metering_point__organisation=token.organisation),
        series_id=series.pk,
        start=start,
        end=end,
        not_ahead=(),
        check=tokens.unchanged_sql(token, now=timezone.now()),
    )
    assert read.allowed and read.series == series and read.points is not None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    response = points_output.raw_json(series=read.series, points=read.points)
    assert orjson.loads(response.content)["points"] == []
    assert points_read == [0]
