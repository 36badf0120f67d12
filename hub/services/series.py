"""Writing series: idempotent upserts on (series, ts).

The bulk path on PostgreSQL streams rows with binary ``COPY`` into a session-local staging
table, then applies them with one ``INSERT … SELECT … ON CONFLICT``; elsewhere (SQLite on the
embedded defaults) the same upsert runs as ``executemany``. Either way a provisional value
never replaces a definitive one, and a definitive value replaces anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from hub.models import MeteringPoint, Point, Quality, Series, SeriesKind

POINT_TABLE = Point._meta.db_table
STAGE_TABLE = "hub_point_stage"
# Rows are sent to the database in slices of this size to bound memory on huge imports.
SLICE = 200_000


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
    return upsert_rows(
        rows=(
            (series_id, p.ts, p.value, p.quality, p.provisional) for p in points
        )
    )


def upsert_rows(*, rows: Iterable[Row]) -> int:
    """Store rows of any series at once. Raises SeriesWriteError (nothing stored) on a bad row."""
    clean = _validated(rows)
    if not clean:
        return 0
    write = _copy_upsert if connection.vendor == "postgresql" else _executemany_upsert
    written = 0
    with transaction.atomic():
        for start in range(0, len(clean), SLICE):
            written += write(clean[start : start + SLICE])
    return written


def _validated(rows: Iterable[Row]) -> list[Row]:
    # Last write wins inside one batch: a single INSERT … ON CONFLICT may not touch a key twice.
    unique: dict[tuple[int, dt.datetime], Row] = {}
    for index, (series_id, ts, value, quality, provisional) in enumerate(rows):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise SeriesWriteError(index, "timestamp without time zone")
        if quality not in _QUALITIES:
            raise SeriesWriteError(index, f"unknown quality {quality!r}")
        if value is None:
            if quality != Quality.MISSING:
                raise SeriesWriteError(index, "a value is required unless quality is missing")
        elif not math.isfinite(value):
            raise SeriesWriteError(index, f"value is not finite: {value!r}")
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


def _copy_upsert(rows: list[Row]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(series_id bigint, ts timestamptz, value float8, quality smallint, provisional bool) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper: it speaks COPY
        with raw.copy(f"COPY {STAGE_TABLE} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int8", "timestamptz", "float8", "int2", "bool"])
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {POINT_TABLE} ({_COLUMNS}) SELECT {_COLUMNS} FROM {STAGE_TABLE} "
            f"ORDER BY series_id, ts {_CONFLICT}"
        )
        return cursor.rowcount


def _executemany_upsert(rows: list[Row]) -> int:
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        before = connection.connection.total_changes if connection.vendor == "sqlite" else 0
        cursor.executemany(
            f"INSERT INTO {POINT_TABLE} ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s) {_CONFLICT}",
            [(sid, adapt(ts), value, quality, prov) for sid, ts, value, quality, prov in rows],
        )
        if connection.vendor == "sqlite":
            return int(connection.connection.total_changes - before)
        return cursor.rowcount
