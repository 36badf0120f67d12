"""Writing series: idempotent upserts on (series, ts).

On PostgreSQL rows travel by binary ``COPY``: straight into the points table when none of the
batch's series holds a point in the batch's time span (the common case of new data), else into
a session-local staging table merged by one ``INSERT … SELECT … ON CONFLICT``. Elsewhere
(SQLite on the embedded defaults) the same upsert runs as ``executemany``. Either way a
provisional value never replaces a definitive one, and a definitive value replaces anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

import psycopg
from django.db import IntegrityError, connection, transaction

from hub.models import MeteringPoint, Point, Quality, Series, SeriesKind

POINT_TABLE = Point._meta.db_table
STAGE_TABLE = "hub_point_stage"
# Rows are sent to the database in slices of this size to bound memory on huge imports.
SLICE = 1_000_000


class SeriesWriteError(ValueError):
    """A point that cannot be stored; ``index`` is its position in the input (0-based)."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"point {index}: {reason}")
        self.index = index
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PointIn:
    ts: dt.datetime
    value: float | None
    quality: int = Quality.MEASURED
    provisional: bool = False


# (series_id, ts in UTC, value, quality, provisional): the wire shape of a staged row.
Row = tuple[int, dt.datetime, float | None, int, bool]

_QUALITIES = frozenset(Quality.values)


def ensure_series(
    *,
    metering_point: MeteringPoint,
    quantity: str,
    unit: str,
    source: str,
    kind: SeriesKind = SeriesKind.INSTANT,
    step_seconds: int | None = None,
) -> Series:
    series, _created = Series.objects.get_or_create(
        metering_point=metering_point,
        quantity=quantity,
        source=source,
        defaults={"unit": unit, "kind": kind, "step_seconds": step_seconds},
    )
    return series


def upsert_points(*, series: Series | int, points: Iterable[PointIn]) -> int:
    """Store ``points`` in one series; returns how many rows were inserted or changed."""
    series_id = series if isinstance(series, int) else series.pk
    return upsert_rows(rows=((series_id, p.ts, p.value, p.quality, p.provisional) for p in points))


def upsert_rows(*, rows: Iterable[Row]) -> int:
    """Store rows of any series at once. Raises SeriesWriteError (nothing stored) on a bad row."""
    checked = _validated(rows)
    if not checked:
        return 0
    _require_series({row[0] for row in checked})
    write = _copy_upsert if connection.vendor == "postgresql" else _executemany_upsert
    written = 0
    with transaction.atomic():
        for start in range(0, len(checked), SLICE):
            written += write(checked[start : start + SLICE])
    return written


def _validated(rows: Iterable[Row]) -> list[Row]:
    checked = rows if isinstance(rows, list) else list(rows)
    for index, (_series_id, ts, value, quality, _provisional) in enumerate(checked):
        if ts.tzinfo is not dt.UTC and ts.utcoffset() is None:
            raise SeriesWriteError(index, "timestamp without time zone")
        if quality not in _QUALITIES:
            raise SeriesWriteError(index, f"unknown quality {quality!r}")
        if value is None:
            if quality != Quality.MISSING:
                raise SeriesWriteError(index, "a value is required unless quality is missing")
        elif not math.isfinite(value):
            raise SeriesWriteError(index, f"value is not finite: {value!r}")
    return checked


def _require_series(series_ids: set[int]) -> None:
    # Points carry no database foreign key (see Point), so the ids are checked here.
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of IN placeholders: a TIC batch names
        # thousands of series, and binding each one cost more than the check itself.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM {Series._meta.db_table} WHERE id = ANY(%s)", [list(series_ids)]
            )
            known = {row[0] for row in cursor.fetchall()}
    else:
        known = set(Series.objects.filter(pk__in=series_ids).values_list("pk", flat=True))
    unknown = series_ids - known
    if unknown:
        raise SeriesWriteError(0, f"unknown series {sorted(unknown)[:5]}")


def _deduplicated(rows: list[Row]) -> list[Row]:
    # Last write wins inside one batch: one INSERT … ON CONFLICT may not touch a key twice.
    unique: dict[tuple[int, dt.datetime], Row] = {}
    for series_id, ts, value, quality, provisional in rows:
        utc = ts.astimezone(dt.UTC)
        unique[(series_id, utc)] = (series_id, utc, value, quality, bool(provisional))
    return list(unique.values())


_CONFLICT = (
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = EXCLUDED.value, "
    "quality = EXCLUDED.quality, provisional = EXCLUDED.provisional "
    f"WHERE (NOT EXCLUDED.provisional OR {POINT_TABLE}.provisional) AND "
    f"({POINT_TABLE}.value, {POINT_TABLE}.quality, {POINT_TABLE}.provisional) "
    "IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.quality, EXCLUDED.provisional)"
)
_COLUMNS = "series_id, ts, value, quality, provisional"


_COPY_TYPES = ["int8", "timestamptz", "float8", "int2", "bool"]


def _copy_upsert(rows: list[Row]) -> int:
    """Append straight into the table when nothing is there yet; else stage and merge."""
    if not _overlaps_stored_points(rows):
        try:
            with transaction.atomic():
                _copy(rows, table=POINT_TABLE)
            return len(rows)
        except (IntegrityError, psycopg.errors.UniqueViolation):
            pass  # a key repeated in the batch, or written meanwhile: merge instead
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(series_id bigint, ts timestamptz, value float8, quality smallint, provisional bool) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        _copy(_deduplicated(rows), table=STAGE_TABLE)
        cursor.execute(
            f"INSERT INTO {POINT_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {STAGE_TABLE} "
            f"{_CONFLICT}"
        )
        return cursor.rowcount


def _overlaps_stored_points(rows: list[Row]) -> bool:
    series_ids = sorted(set(map(itemgetter(0), rows)))
    first = min(map(itemgetter(1), rows))
    last = max(map(itemgetter(1), rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {POINT_TABLE} WHERE series_id = ANY(%s) "
            "AND ts >= %s AND ts <= %s)",
            [series_ids, first, last],
        )
        return bool(cursor.fetchone()[0])


def _copy(rows: list[Row], *, table: str) -> None:
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper: it speaks COPY
        with raw.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)
            for row in rows:
                copy.write_row(row)


def _executemany_upsert(rows: list[Row]) -> int:
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        before = connection.connection.total_changes
        cursor.executemany(
            f"INSERT INTO {POINT_TABLE} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s) {_CONFLICT}",
            [(sid, adapt(ts), value, q, prov) for sid, ts, value, q, prov in _deduplicated(rows)],
        )
        return int(connection.connection.total_changes - before)
