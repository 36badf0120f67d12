"""The series-points API's outputs: JSON (orjson), CSV and Apache Arrow / Parquet (pyarrow).

On PostgreSQL every format runs ``hub.selectors.series.points_sql`` and encodes what the cursor
gives: JSON from rows streamed in PostgreSQL's binary format, encoded by orjson while the next
rows arrive, ``CHUNK`` rows at a time (the answer is sent once complete: a raw read over the
maximum is a 400, never a cut document), CSV straight from ``COPY … TO STDOUT`` (no Python
object per row), and Arrow / Parquet record batches parsed by pyarrow's C++ CSV reader from
that same ``COPY``.
SQLite (embedded defaults) encodes ``read_points``' buckets instead.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from psycopg.types.datetime import TimestampBinaryLoader

from hub.models import Aggregate, Series
from hub.selectors.series import (
    MAX_RAW_POINTS,
    SeriesReadError,
    Step,
    points_sql,
    raw_points_sql,
    read_points,
)

# Rows a chunk of a streamed read, encoded as one: a year of hourly points took the same time
# with 250 to 500 rows a chunk, 0.4 ms more with 1,000 and 1.2 ms more with 2,000.
CHUNK = 500
COLUMNS = ("ts", "value", "count", "quality")


def arrow_schema() -> Any:
    # pyarrow is imported on the first export, not by every process that loads the API.
    import pyarrow as pa

    return pa.schema(
        [
            ("ts", pa.timestamp("us", tz="UTC")),
            ("value", pa.float64()),
            ("count", pa.int32()),
            ("quality", pa.int16()),
        ]
    )


class Format(enum.StrEnum):
    JSON = "json"
    CSV = "csv"
    ARROW = "arrow"
    PARQUET = "parquet"


MEDIA_TYPES = {
    Format.JSON: "application/json",
    Format.CSV: "text/csv",
    Format.ARROW: "application/vnd.apache.arrow.stream",
    Format.PARQUET: "application/vnd.apache.parquet",
}
_BY_MEDIA_TYPE = {media: fmt for fmt, media in MEDIA_TYPES.items()}


class NotAcceptable(ValueError):
    """No media type of the request's ``Accept`` header is one the points come in."""


def negotiate(*, requested: str | None, accept: str) -> Format:
    """The output format: ``?format=`` when given (already validated), else the first media
    type of ``Accept`` served here (``*/*`` and no header: JSON)."""
    if requested:
        return Format(requested)
    if not accept.strip():
        return Format.JSON
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in _BY_MEDIA_TYPE:
            return _BY_MEDIA_TYPE[media]
        if media in ("*/*", "application/*"):
            return Format.JSON
        if media == "text/*":
            return Format.CSV
    raise NotAcceptable(f"served types: {', '.join(MEDIA_TYPES.values())}")


def respond(
    *,
    fmt: Format,
    series: Series,
    start: dt.datetime,
    end: dt.datetime,
    step: Step,
    aggregate: Aggregate | None,
) -> HttpResponse | StreamingHttpResponse:
    """The response for the points of ``series``; raises SeriesReadError before any byte."""
    meta = _meta(series, step, aggregate)
    if connection.vendor != "postgresql":
        return _from_buckets(fmt, meta, read_points(
            series=series, start=start, end=end, step=step, aggregate=aggregate
        ))  # fmt: skip
    if fmt is Format.JSON:
        if step is Step.RAW:
            sql, params = raw_points_sql(
                series_id=series.pk, start=start, end=end, with_count=False
            )
        else:
            sql, params = points_sql(
                series=series, start=start, end=end, step=step, aggregate=aggregate
            )
        return _json(sql, params, meta, raw=step is Step.RAW)
    # Bulk exports: no cap on raw points (they stream), ts written as ISO 8601 by the database.
    sql, params = points_sql(
        series=series, start=start, end=end, step=step, aggregate=aggregate, raw_limit=None
    )
    copy_sql = (
        f"COPY (SELECT {_ts_text('q.ts')} AS ts, q.value, q.count, q.quality FROM ({sql}) "
        "AS q (ts, value, count, quality)) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    name = f"series-{series.pk}-{step.value}"
    if fmt is Format.CSV:
        response = StreamingHttpResponse(_copy_out(copy_sql, params), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    batches = _arrow_batches(copy_sql, params)
    if fmt is Format.ARROW:
        response = StreamingHttpResponse(_arrow_stream(batches), content_type=MEDIA_TYPES[fmt])
        response["Content-Disposition"] = f'attachment; filename="{name}.arrows"'
        return response
    response = StreamingHttpResponse(_parquet(batches), content_type=MEDIA_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.parquet"'
    return response


def _meta(series: Series, step: Step, aggregate: Aggregate | None) -> dict[str, Any]:
    return {
        "series": series.pk,
        "unit": series.unit,
        "step": step.value,
        "aggregate": None if step is Step.RAW else (aggregate or series.default_aggregate),
    }


def _ts_text(sql: str) -> str:
    # ISO 8601 in UTC with a Z, fractional seconds only when there are some (as the JSON).
    utc = f"({sql} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"{sql} <> date_trunc('second', {sql}) THEN to_char({utc}, '.US') "
        "ELSE '' END || 'Z'"
    )


def _dicts(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [{"ts": t, "value": v, "count": c, "quality": q} for t, v, c, q in rows]


def _raw_dicts(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    # Raw rows come without their count, which is 1: one column less to send and load.
    return [{"ts": t, "value": v, "count": 1, "quality": q} for t, v, q in rows]


# orjson writes the datetimes itself; naive ones are UTC (``_points_cursor``), which orjson
# writes four times faster than aware ones.
_ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC


def _json(sql: str, params: list[Any], meta: dict[str, Any], *, raw: bool) -> HttpResponse:
    cursor = _points_cursor()
    try:
        cursor.execute(sql, params)
        return _json_from(cursor, meta, raw=raw)
    finally:
        cursor.close()


def _points_cursor() -> Any:
    # The rows are streamed (hub.postgresql's StreamCursor), ``CHUNK`` at a time, and each
    # chunk is turned into JSON while the server sends the next. A year of hourly points took
    # 3.7-4.2 ms so; 4.9-5.4 ms when the rows were encoded once the last one was in.
    cursor = connection.stream_cursor(chunk_rows=CHUNK)  # type: ignore[attr-defined]
    # Rows in PostgreSQL's binary format: a timestamptz is then its UTC microseconds, loaded
    # by psycopg's C loader of timestamps as a naive datetime in UTC (no text to write or
    # parse, no zone to attach). The points' queries return no other timestamp column.
    cursor.cursor.adapters.register_loader("timestamptz", TimestampBinaryLoader)
    return cursor


def _json_from(cursor: Any, meta: dict[str, Any], *, raw: bool) -> HttpResponse:
    """The JSON answer of the rows of ``cursor`` (executed, streaming), each chunk encoded as
    it arrives, read to the end before the first byte is answered: a raw read over
    ``MAX_RAW_POINTS`` is a 400, never a cut document. The caller closes the cursor."""
    dicts = _raw_dicts if raw else _dicts
    parts = [orjson.dumps(meta)[:-1], b',"points":[']
    count = 0
    with connection.wrap_database_errors:
        for chunk in cursor.cursor.chunks:
            if count:
                parts.append(b",")
            count += len(chunk)
            if raw and count > MAX_RAW_POINTS:
                raise SeriesReadError("step", f"more than {MAX_RAW_POINTS} points: resample")
            parts.append(_encode(dicts(chunk)))
    parts.append(b"]}")
    return HttpResponse(b"".join(parts), content_type="application/json")


def _encode(points: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(points, option=_ORJSON_OPTIONS)[1:-1]


@dataclass
class SeriesRead:
    """What ``series_and_raw_points`` found: whether the caller's check held, the series (if
    visible) and the query of its raw points (when they may be read)."""

    allowed: bool
    series: Series | None
    points: tuple[str, list[Any]] | None


def series_and_raw_points(
    *,
    scoped: QuerySet[Series],
    series_id: int,
    start: dt.datetime,
    end: dt.datetime,
    not_ahead: Collection[str],
    check: tuple[str, list[Any]] = ("TRUE", []),
) -> SeriesRead:
    """The series ``series_id`` of ``scoped`` (the caller's queryset, already limited to what
    it may see), read with ``check`` (a boolean SQL expression, evaluated with the series), and
    the query of its raw points in ``[start, end)``, for ``raw_json`` once the caller has made
    its own checks. The points query repeats the scoping and the check, so it reads nothing of
    a series the caller may not see, nor of a source in ``not_ahead`` (a guard decides its
    reads first: no query is given then), nor anything once ``check`` no longer holds."""
    check_sql, check_params = check
    one = scoped.filter(pk=series_id).order_by()
    compiler = one.query.get_compiler(using=connection.alias)
    series_sql, series_params = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COALESCE({check_sql}, FALSE), s.* FROM (SELECT 1) AS one "
            f"LEFT JOIN ({series_sql}) AS s ON TRUE",
            [*check_params, *series_params],
        )
        allowed, *row = cursor.fetchone()
    if not allowed or row[0] is None:
        return SeriesRead(allowed=bool(allowed), series=None, points=None)
    # The ORM's converters, as if the series had been read through the queryset.
    values = next(iter(compiler.results_iter(results=[[tuple(row)]])))
    fields = [f.attname for f in Series._meta.concrete_fields]
    series = Series.from_db(connection.alias, fields, values)
    if series.source in not_ahead:
        return SeriesRead(allowed=True, series=series, points=None)
    # The same statement (compiled once) tells the points query whether the series is visible.
    source = connection.ops.quote_name(str(Series._meta.get_field("source").column))
    guarded = list(not_ahead)
    unguarded = f" AND v.{source} NOT IN ({', '.join(['%s'] * len(guarded))})" if guarded else ""
    points = raw_points_sql(
        series_id=series_id,
        start=start,
        end=end,
        condition=(
            f"{check_sql} AND EXISTS (SELECT 1 FROM ({series_sql}) AS v WHERE TRUE{unguarded})",
            [*check_params, *series_params, *guarded],
        ),
        with_count=False,
    )
    return SeriesRead(allowed=True, series=series, points=points)


def raw_json(*, series: Series, points: tuple[str, list[Any]]) -> HttpResponse:
    """The JSON answer of ``series_and_raw_points``' query, as ``respond`` writes a raw read."""
    sql, params = points
    return _json(sql, params, _meta(series, Step.RAW, None), raw=True)


def _copy_out(copy_sql: str, params: list[Any]) -> Iterator[bytes]:
    # The cursor is taken now, in the request's thread: Django's connections are per thread.
    cursor = connection.cursor()

    def blocks() -> Iterator[bytes]:
        try:
            with cursor.cursor.copy(copy_sql, params) as copy:
                for block in copy:
                    yield bytes(block)
        finally:
            cursor.close()

    return blocks()


class _IterReader(io.RawIOBase):
    """A readable file over an iterator of byte blocks (pyarrow's CSV reader pulls from it)."""

    def __init__(self, blocks: Iterator[bytes]) -> None:
        self._blocks = blocks
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            try:
                self._pending = next(self._blocks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _arrow_batches(copy_sql: str, params: list[Any]) -> Iterator[Any]:
    import pyarrow.csv as pa_csv

    reader = pa_csv.open_csv(
        io.BufferedReader(_IterReader(_copy_out(copy_sql, params)), buffer_size=1 << 20),
        read_options=pa_csv.ReadOptions(use_threads=False, block_size=1 << 20),
        convert_options=pa_csv.ConvertOptions(
            column_types={field.name: field.type for field in arrow_schema()}
        ),
    )
    yield from reader


class _Drain:
    """A write-only sink whose bytes are handed out as soon as they are written."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def take(self) -> bytes:
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return data


def _arrow_stream(batches: Iterator[Any]) -> Iterator[bytes]:
    import pyarrow as pa

    drain, schema = _Drain(), arrow_schema()
    with pa.ipc.new_stream(drain.buffer, schema) as writer:
        for batch in batches:
            writer.write_batch(batch.cast(schema))
            yield drain.take()
    yield drain.take()


def _parquet(batches: Iterator[Any]) -> Iterator[bytes]:
    import pyarrow.parquet as pq

    drain, schema = _Drain(), arrow_schema()
    with pq.ParquetWriter(drain.buffer, schema) as writer:
        for batch in batches:
            writer.write_batch(batch.cast(schema))
            yield drain.take()
    yield drain.take()


def _number(value: float | None) -> str:
    # As PostgreSQL writes a float8: the shortest exact text, no ".0" on whole numbers.
    if value is None:
        return ""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _from_buckets(
    fmt: Format, meta: dict[str, Any], buckets: list[Any]
) -> HttpResponse | StreamingHttpResponse:
    rows = [(b.ts, b.value, b.count, b.quality) for b in buckets]
    if fmt is Format.JSON:
        return HttpResponse(
            orjson.dumps({**meta, "points": _dicts(rows)}, option=_ORJSON_OPTIONS),
            content_type="application/json",
        )
    if fmt is Format.CSV:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        for ts, value, count, quality in rows:
            stamp = ts.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
            writer.writerow((stamp, _number(value), count, quality))
        return HttpResponse(text.getvalue().encode(), content_type="text/csv")
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()
    table = pa.Table.from_pylist(
        [dict(zip(COLUMNS, row, strict=True)) for row in rows], schema=schema
    )
    sink = io.BytesIO()
    if fmt is Format.ARROW:
        with pa.ipc.new_stream(sink, schema) as writer:
            writer.write_table(table)
    else:
        pq.write_table(table, sink)
    return HttpResponse(sink.getvalue(), content_type=MEDIA_TYPES[fmt])
