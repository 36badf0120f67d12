"""The series-points API's formats: JSON, CSV, Apache Arrow and Parquet, chosen by ``format``
or ``Accept``; an unknown format is a 400 naming ``format``; tenancy and read guards hold for
every format.

Issue 18: "offers CSV and Apache Arrow/Parquet (pyarrow) outputs for bulk exports".
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hub import series_access
from hub.api import points_output
from hub.clock import local_day_bounds
from hub.models import SeriesKind
from hub.services.series import PointIn, ensure_series, upsert_points
from tests.api_problems import field_errors
from tests.conftest import require

pytestmark = pytest.mark.django_db
DAY = {"start": "2026-10-25T00:00:00+02:00", "end": "2026-10-26T00:00:00+01:00"}


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
        points=[PointIn(start + dt.timedelta(minutes=15 * i), float(i)) for i in range(count)],
    )
    return series


def url(series):
    return f"/api/v1/series/{series.pk}/points/"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_csv_by_query_parameter(token_client, series):
    response = token_client.get(url(series), {**DAY, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = body(response).decode().splitlines()
    assert lines[0] == "ts,value,count,quality"
    assert lines[1] == "2026-10-24T22:00:00Z,0,1,0"
    assert lines[-1] == "2026-10-25T22:45:00Z,99,1,0"
    assert len(lines) == 101


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("text/csv", "csv"),
        ("application/vnd.apache.arrow.stream", "arrow"),
        ("application/vnd.apache.parquet, */*;q=0.1", "parquet"),
        ("application/json", "json"),
        ("*/*", "json"),
    ],
)
def test_accept_header_chooses_the_format(token_client, series, accept, kind):
    response = token_client.get(url(series), {**DAY, "step": "1h"}, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    content = body(response)
    if kind == "json":
        points = orjson.loads(content)["points"]
        assert len(points) == 25 and points[0]["value"] == 6.0
        return
    if kind == "csv":
        assert content.decode().splitlines()[1] == "2026-10-24T22:00:00Z,6,4,0"
        return
    table = (
        pa.ipc.open_stream(content).read_all()
        if kind == "arrow"
        else pq.read_table(io.BytesIO(content))
    )
    assert table.schema.equals(points_output.arrow_schema())
    assert table.num_rows == 25
    first = table.slice(0, 1).to_pylist()[0]
    assert first == {
        "ts": dt.datetime(2026, 10, 24, 22, tzinfo=dt.UTC),
        "value": 6.0,
        "count": 4,
        "quality": 0,
    }


def test_arrow_and_parquet_hold_the_same_rows_as_json(token_client, series):
    json_points = orjson.loads(body(token_client.get(url(series), DAY)))["points"]
    for fmt in ("arrow", "parquet"):
        content = body(token_client.get(url(series), {**DAY, "format": fmt}))
        table = (
            pa.ipc.open_stream(content).read_all()
            if fmt == "arrow"
            else pq.read_table(io.BytesIO(content))
        )
        assert [
            {**row, "ts": row["ts"].isoformat().replace("+00:00", "Z")} for row in table.to_pylist()
        ] == json_points


def test_unknown_format_answers_400_naming_it(token_client, series):
    response = token_client.get(url(series), {**DAY, "format": "xml"})
    assert response.status_code == 400
    assert "format" in field_errors(response)


def test_unserved_accept_answers_406(token_client, series):
    response = token_client.get(url(series), DAY, HTTP_ACCEPT="application/xml")
    assert response.status_code == 406


def test_large_json_streams_the_same_document(token_client, series, monkeypatch):
    whole = orjson.loads(body(token_client.get(url(series), DAY)))
    monkeypatch.setattr(points_output, "CHUNK", 7)
    response = token_client.get(url(series), DAY)
    assert orjson.loads(body(response)) == whole
    assert len(whole["points"]) == 100


@pytest.mark.parametrize("points", [0, 1, 6, 7, 8, 14, 15, 100])  # 0: an hour before the day
def test_json_around_the_chunks_edges_is_the_whole_document(
    token_client, series, monkeypatch, points
):
    """The rows are encoded ``CHUNK`` at a time: an empty read, a chunk exactly full, one row
    past it and several chunks all give the document of one encoding, for the fast raw read
    and the general path (a series filter in the query string) alike."""
    start, _ = local_day_bounds(dt.date(2026, 10, 25))
    if not points:
        start -= dt.timedelta(hours=1)
    params = {
        "start": start.isoformat(),
        "end": (start + dt.timedelta(minutes=15 * points or 60)).isoformat(),
    }
    whole = [
        orjson.loads(body(token_client.get(url(series), {**params, **extra})))
        for extra in ({}, {"source": "test"})
    ]
    monkeypatch.setattr(points_output, "CHUNK", 7)
    for extra, expected in zip(({}, {"source": "test"}), whole, strict=True):
        response = token_client.get(url(series), {**params, **extra})
        assert response.status_code == 200
        assert orjson.loads(body(response)) == expected
        assert len(expected["points"]) == points


@pytest.mark.parametrize(
    ("maximum", "points", "refused"),
    [(100, 100, False), (99, 100, True), (3, 100, True), (6, 6, False), (5, 6, True)],
)
def test_raw_read_at_the_maximum(token_client, series, monkeypatch, maximum, points, refused):
    """A maximum of 100 reads a day's 100 points, 99 refuses them; so does 3, which the first
    chunk alone passes. A read shorter than a chunk (6 points) is held to it too."""
    from django.db import connection

    # SQLite reads through read_points, whose own maximum is far above 100.
    require(connection.vendor == "postgresql", "the streamed read is PostgreSQL's")
    monkeypatch.setattr(points_output, "CHUNK", 7)
    monkeypatch.setattr(points_output, "MAX_RAW_POINTS", maximum)
    start, _ = local_day_bounds(dt.date(2026, 10, 25))
    end = start + dt.timedelta(minutes=15 * points)
    response = token_client.get(url(series), {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == (400 if refused else 200)
    if not refused:
        assert len(orjson.loads(body(response))["points"]) == points


def test_raw_read_over_the_maximum_is_refused_before_streaming(token_client, series, monkeypatch):
    monkeypatch.setattr(points_output, "CHUNK", 7)
    monkeypatch.setattr(points_output, "MAX_RAW_POINTS", 50)
    from django.db import connection

    response = token_client.get(url(series), DAY)
    if connection.vendor == "postgresql":
        assert response.status_code == 400
        assert "step" in field_errors(response)
    else:  # SQLite reads through read_points, whose own maximum is far above 100
        assert response.status_code == 200


@pytest.mark.parametrize("fmt", ["json", "csv", "arrow", "parquet"])
def test_foreign_series_answers_404_in_every_format(token_client, foreign, fmt):
    other = ensure_series(metering_point=foreign.point, quantity="p", unit="W", source="test")
    response = token_client.get(url(other), {**DAY, "format": fmt})
    assert response.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "csv", "arrow", "parquet"])
def test_read_guard_refuses_in_every_format(token_client, series, fmt, monkeypatch):
    monkeypatch.setitem(series_access._guards, "test", lambda *args: "outside the consent")
    response = token_client.get(url(series), {**DAY, "format": fmt})
    assert response.status_code == 403
    assert "outside the consent" in response.json()["detail"]
