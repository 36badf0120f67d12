"""Writing series: idempotent upserts on (series, ts).

On PostgreSQL rows travel by binary ``COPY`` into their tier of the partitioned points table
(``hub.services.partitions``): a large batch whose time span no partition holds yet into
partitions made for it, keys built after the rows (a backfill); else straight in when none of
the batch's series holds a point in the batch's time span (the common case of new data), else
into a session-local staging table merged by one ``INSERT … SELECT … ON CONFLICT``. The points
of sources whose raw data expire are then rolled up (1 min, 15 min, 1 h): an appended or loaded
batch is added to its buckets, a merged one has the buckets it touched recomputed. Elsewhere
(SQLite on the embedded defaults) the same upsert runs as ``executemany`` on the plain table,
without rollups. Either way a provisional value never replaces a definitive one, and a
definitive value replaces anything.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from hub.models import MeteringPoint, Point, Quality, Rollup, Series, SeriesKind
from hub.services import partitions

POINT_TABLE = Point._meta.db_table
ROLLUP_TABLE = Rollup._meta.db_table
# Rollup widths in seconds, finest first: the first is computed from raw points, the others
# from it.
ROLLUP_WIDTHS = (60, 900, 3600)
STAGE_TABLE = "hub_point_stage"
# Rows are sent to the database in slices of this size to bound memory on huge imports.
SLICE = 1_000_000
# From this many rows a batch whose partitions do not exist yet gets them built for it, keys
# after the rows; below, the statements it takes (about ten per partition) cost more than
# they save.
BULK_LOAD_ROWS = 50_000


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


def ensure_many_series(
    *, wanted: dict[Any, tuple[int, str, str, SeriesKind, int | None]], source: str
) -> dict[Any, int]:
    """The ids of many series of ``source`` at once, made when missing: ``wanted`` maps a key
    of the caller to (metering point id, quantity, unit, kind, step seconds). Three statements
    whatever their number; a series another process makes meanwhile is found, not duplicated
    (the unique constraint, then a second select)."""
    if not wanted:
        return {}
    pairs = {(point, quantity) for point, quantity, *_rest in wanted.values()}

    def select() -> dict[tuple[int, str], int]:
        found = Series.objects.filter(
            metering_point_id__in={point for point, _q in pairs},
            quantity__in={quantity for _p, quantity in pairs},
            source=source,
        ).values_list("metering_point_id", "quantity", "pk")
        return {(point, q): pk for point, q, pk in found if (point, q) in pairs}

    known = select()
    if len(known) < len(pairs):
        made: dict[tuple[int, str], Series] = {}
        for point, quantity, unit, kind, step in wanted.values():
            if (point, quantity) not in known and (point, quantity) not in made:
                made[(point, quantity)] = Series(
                    metering_point_id=point,
                    quantity=quantity,
                    unit=unit,
                    source=source,
                    kind=kind,
                    step_seconds=step,
                )
        Series.objects.bulk_create(list(made.values()), ignore_conflicts=True)
        known = select()
    return {key: known[(point, quantity)] for key, (point, quantity, *_r) in wanted.items()}


def upsert_points(*, series: Series | int, points: Iterable[PointIn]) -> int:
    """Store ``points`` in one series; returns how many rows were inserted or changed."""
    series_id = series if isinstance(series, int) else series.pk
    return upsert_rows(rows=((series_id, p.ts, p.value, p.quality, p.provisional) for p in points))


def upsert_rows(*, rows: Iterable[Row]) -> int:
    """Store rows of any series at once. Raises SeriesWriteError (nothing stored) on a bad row."""
    checked = rows if isinstance(rows, list) else list(rows)
    if not checked:
        return 0
    if connection.vendor != "postgresql":
        _validated(checked)
        _require_series(set(map(itemgetter(0), checked)))
        with transaction.atomic():
            return sum(
                _executemany_upsert(checked[start : start + SLICE])
                for start in range(0, len(checked), SLICE)
            )
    # On PostgreSQL rows are validated as they are streamed to the server (``_copy``), while
    # it stores the rows before them, not ahead of the whole batch; a bad row aborts the COPY
    # and the transaction, so nothing is stored either way.
    series_ids = set(map(itemgetter(0), checked))
    short = _require_series(series_ids)
    mixed = bool(short) and len(short) < len(series_ids)
    if mixed:
        # A batch mixing tiers (rare: apps write one source at a time) is split; it is
        # validated first, so that the error names the first bad row of the input.
        _validated(checked)
        by_tier = {
            partitions.SHORT: [row for row in checked if row[0] in short],
            partitions.KEPT: [row for row in checked if row[0] not in short],
        }
    else:
        by_tier = {partitions.SHORT if short else partitions.KEPT: checked}
    written = 0
    with transaction.atomic():
        for tier, tier_rows in by_tier.items():
            for start in range(0, len(tier_rows), SLICE):
                part = _Batch(tier_rows[start : start + SLICE], offset=start, valid=mixed)
                first, last = part.span()
                if len(part.rows) >= BULK_LOAD_ROWS and _loaded_into_new_partitions(
                    part, tier=tier, first=first, last=last
                ):
                    changed, appended = len(part.rows), True
                else:
                    partitions.ensure_partitions(tier=tier, first=first, last=last)
                    changed, appended = _copy_upsert(part, tier=tier, first=first, last=last)
                written += changed
                if tier is not partitions.SHORT:
                    continue
                if appended:
                    _add_to_rollups(series_ids=sorted(short), first=first, last=last)
                else:
                    refresh_rollups(series_ids=sorted(short), first=first, last=last)
    return written


class _Batch:
    """A slice of the input starting at its position ``offset``, and whether it is known
    valid: the errors name positions in the input."""

    __slots__ = ("offset", "rows", "valid")

    def __init__(self, rows: list[Row], *, offset: int, valid: bool) -> None:
        self.rows = rows
        self.offset = offset
        self.valid = valid

    def validate(self, start: int = 0, stop: int | None = None) -> None:
        if self.valid:
            return
        try:
            _validated(self.rows[start:stop])
        except SeriesWriteError as error:
            raise SeriesWriteError(self.offset + start + error.index, error.reason) from None
        if start == 0 and stop is None:
            self.valid = True

    def span(self) -> tuple[dt.datetime, dt.datetime]:
        """The first and last instants; a batch mixing naive and aware timestamps cannot be
        ordered, and the full check names its first naive one."""
        try:
            return min(map(itemgetter(1), self.rows)), max(map(itemgetter(1), self.rows))
        except TypeError:
            self.validate()
            raise


def _validated(rows: Iterable[Row]) -> list[Row]:
    checked = rows if isinstance(rows, list) else list(rows)
    for index, (_series_id, ts, value, quality, _provisional) in enumerate(checked):
        if ts.tzinfo is not dt.UTC and ts.utcoffset() is None:
            raise SeriesWriteError(index, _("timestamp without time zone"))
        if quality not in _QUALITIES:
            raise SeriesWriteError(index, _("unknown quality %(quality)r") % {"quality": quality})
        if value is None:
            if quality != Quality.MISSING:
                raise SeriesWriteError(index, _("a value is required unless quality is missing"))
        elif not math.isfinite(value):
            raise SeriesWriteError(index, _("value is not finite: %(value)r") % {"value": value})
    return checked


def _require_series(series_ids: set[int]) -> set[int]:
    """Check the ids (points carry no database foreign key, see Point); returns those whose
    source keeps its raw points a limited time."""
    short_sources = partitions.short_sources()
    if connection.vendor == "postgresql":
        # One array parameter instead of thousands of IN placeholders: a TIC batch names
        # thousands of series, and binding each one cost more than the check itself.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, source FROM {Series._meta.db_table} WHERE id = ANY(%s)",
                [list(series_ids)],
            )
            known = dict(cursor.fetchall())
    else:
        known = dict(Series.objects.filter(pk__in=series_ids).values_list("pk", "source"))
    unknown = series_ids - known.keys()
    if unknown:
        raise SeriesWriteError(0, _("unknown series %(value)s") % {"value": sorted(unknown)[:5]})
    return {series_id for series_id, source in known.items() if source in short_sources}


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
    "WHERE (NOT EXCLUDED.provisional OR p.provisional) AND "
    "(p.value, p.quality, p.provisional) "
    "IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.quality, EXCLUDED.provisional)"
)
_COLUMNS = "series_id, ts, value, quality, provisional"


_COPY_TYPES = ["int8", "timestamptz", "float8", "int2", "bool"]
# Rows validated at a time while streaming a COPY: small enough that the first reach the
# server at once, large enough that the loop's overhead stays negligible.
_CHECK_CHUNK = 10_000


def _copy_upsert(
    batch: _Batch, *, tier: partitions.Tier, first: dt.datetime, last: dt.datetime
) -> tuple[int, bool]:
    """Append straight into the tier when nothing is there yet; else stage and merge.

    Returns the rows written and whether they were appended: then the batch's series hold no
    other point in ``[first, last]`` than the batch's own."""
    rows = batch.rows
    if not _overlaps_stored_points(rows, tier=tier, first=first, last=last):
        try:
            with transaction.atomic():
                _copy(batch, table=tier.table)
            return len(rows), True
        except (IntegrityError, psycopg.errors.UniqueViolation):
            pass  # a key repeated in the batch, or written meanwhile: merge instead
    # The server may refuse the COPY above before every row went through the check.
    batch.validate()
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
            "(series_id bigint, ts timestamptz, value float8, quality smallint, provisional bool) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(f"TRUNCATE {STAGE_TABLE}")
        _copy(_deduplicated(rows), table=STAGE_TABLE)
        cursor.execute(
            f"INSERT INTO {tier.table} AS p ({_COLUMNS}) SELECT {_COLUMNS} FROM {STAGE_TABLE} "
            + _CONFLICT
        )
        return cursor.rowcount, False


def _loaded_into_new_partitions(
    batch: _Batch, *, tier: partitions.Tier, first: dt.datetime, last: dt.datetime
) -> bool:
    """Load a large batch whose time span no partition holds yet into partitions made for
    it, their keys built after the rows (``partitions.load_into_new_partitions``)."""
    try:
        with transaction.atomic():
            return partitions.load_into_new_partitions(
                tier=tier,
                first=first,
                last=last,
                copy=lambda table: _copy(batch, table=table),
            )
    except (IntegrityError, psycopg.errors.UniqueViolation):
        return False  # a key repeated in the batch: it is merged instead


def _overlaps_stored_points(
    rows: list[Row], *, tier: partitions.Tier, first: dt.datetime, last: dt.datetime
) -> bool:
    series_ids = sorted(set(map(itemgetter(0), rows)))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS (SELECT 1 FROM {tier.table} WHERE series_id = ANY(%s) "
            "AND ts >= %s AND ts <= %s)",
            [series_ids, first, last],
        )
        return bool(cursor.fetchone()[0])


def _copy(source: list[Row] | _Batch, *, table: str) -> None:
    """COPY rows into ``table``. The rows of a batch not known valid are validated a chunk
    at a time just before it is sent: the server is storing the chunks before it meanwhile (it
    runs on the other core), so the check no longer delays the batch by its own length."""
    batch = source if isinstance(source, _Batch) else None
    rows = source.rows if isinstance(source, _Batch) else source
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper: it speaks COPY
        with raw.copy(f"COPY {table} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_COPY_TYPES)
            write_row = copy.write_row
            for start in range(0, len(rows), _CHECK_CHUNK):
                if batch is not None:
                    batch.validate(start, start + _CHECK_CHUNK)
                for row in rows[start : start + _CHECK_CHUNK]:
                    write_row(row)
    if batch is not None:
        batch.valid = True  # every row went through the check


_ROLLUP_COLUMNS = "series_id, width, bucket, count, sum, min, max, last_ts, last_value, quality"
_ROLLUP_UPSERT = (
    "ON CONFLICT (series_id, width, bucket) DO UPDATE SET count = EXCLUDED.count, "
    "sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max, last_ts = EXCLUDED.last_ts, "
    "last_value = EXCLUDED.last_value, quality = EXCLUDED.quality"
)


def _floor(ts: dt.datetime, width: int) -> dt.datetime:
    epoch = int(ts.timestamp())
    return dt.datetime.fromtimestamp(epoch - epoch % width, dt.UTC)


def refresh_rollups(*, series_ids: list[int], first: dt.datetime, last: dt.datetime) -> None:
    """Recompute the rollups of ``series_ids`` over every bucket holding an instant of
    ``[first, last]`` (PostgreSQL): the minutes from the raw points, the coarser widths from
    the minutes. Recomputing a whole bucket, not adding the batch to it, keeps replaced and
    repeated points right."""
    fine = ROLLUP_WIDTHS[0]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ROLLUP_TABLE} ({_ROLLUP_COLUMNS}) "
            f"SELECT series_id, {fine}, date_bin('{fine} seconds', ts, 'epoch'), count(value), "
            "sum(value), min(value), max(value), max(ts), (array_agg(value ORDER BY ts DESC))[1], "
            f"max(quality) FROM {partitions.SHORT.table} "
            "WHERE series_id = ANY(%s) AND ts >= %s AND ts < %s GROUP BY 1, 3 " + _ROLLUP_UPSERT,
            [series_ids, _floor(first, fine), _floor(last, fine) + dt.timedelta(seconds=fine)],
        )
        for width in ROLLUP_WIDTHS[1:]:
            cursor.execute(
                f"INSERT INTO {ROLLUP_TABLE} ({_ROLLUP_COLUMNS}) "
                f"SELECT series_id, {width}, date_bin('{width} seconds', bucket, 'epoch'), "
                "sum(count), sum(sum), min(min), max(max), max(last_ts), "
                "(array_agg(last_value ORDER BY last_ts DESC))[1], max(quality) "
                f"FROM {ROLLUP_TABLE} WHERE width = {fine} AND series_id = ANY(%s) "
                "AND bucket >= %s AND bucket < %s GROUP BY 1, 3 " + _ROLLUP_UPSERT,
                [
                    series_ids,
                    _floor(first, width),
                    _floor(last, width) + dt.timedelta(seconds=width),
                ],
            )


def _add_to_rollups(*, series_ids: list[int], first: dt.datetime, last: dt.datetime) -> None:
    """Add an appended batch (the only points of its series in ``[first, last]``) to every
    rollup width in one statement: the cost follows the batch, not the buckets it lands in
    (a TIC reader flushes every half second into the same minute and hour)."""
    fine = ROLLUP_WIDTHS[0]
    coarser = " UNION ALL ".join(
        f"SELECT series_id, {width}, date_bin('{width} seconds', bucket, 'epoch'), sum(count), "
        "sum(sum), min(min), max(max), max(last_ts), "
        "(array_agg(last_value ORDER BY last_ts DESC))[1], max(quality) FROM batch GROUP BY 1, 3"
        for width in ROLLUP_WIDTHS[1:]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH batch ({_ROLLUP_COLUMNS}) AS ("
            f"SELECT series_id, {fine}, date_bin('{fine} seconds', ts, 'epoch'), count(value), "
            "sum(value), min(value), max(value), max(ts), (array_agg(value ORDER BY ts DESC))[1], "
            f"max(quality) FROM {partitions.SHORT.table} "
            "WHERE series_id = ANY(%s) AND ts >= %s AND ts <= %s GROUP BY 1, 3) "
            f"INSERT INTO {ROLLUP_TABLE} AS r ({_ROLLUP_COLUMNS}) "
            f"SELECT * FROM batch UNION ALL {coarser} "
            "ON CONFLICT (series_id, width, bucket) DO UPDATE SET "
            "count = r.count + EXCLUDED.count, "
            "sum = CASE WHEN r.sum IS NULL THEN EXCLUDED.sum WHEN EXCLUDED.sum IS NULL "
            "THEN r.sum ELSE r.sum + EXCLUDED.sum END, "
            "min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max), "
            "last_value = CASE WHEN EXCLUDED.last_ts > r.last_ts THEN EXCLUDED.last_value "
            "ELSE r.last_value END, last_ts = GREATEST(r.last_ts, EXCLUDED.last_ts), "
            "quality = GREATEST(r.quality, EXCLUDED.quality)",
            [series_ids, first, last],
        )


def delete_points(
    *,
    series_ids: Iterable[int],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> int:
    """Delete the points of ``series_ids``, all of them (consent purges) or those in
    ``[start, end)``, and keep their rollups true; returns the points deleted.

    Deleting raw points behind the service's back would leave rollups that still count them,
    and reads served from rollups would return data that no longer exists."""
    ids = list(series_ids)
    with transaction.atomic():
        points = Point.objects.filter(series_id__in=ids)
        if start is None and end is None:
            deleted, _ = points.delete()
            Rollup.objects.filter(series_id__in=ids).delete()
            return deleted
        if start is not None:
            points = points.filter(ts__gte=start)
        if end is not None:
            points = points.filter(ts__lt=end)
        span = points.aggregate(first=Min("ts"), last=Max("ts"))
        deleted, _ = points.delete()
        if not deleted or connection.vendor != "postgresql":
            return deleted
        first, last = span["first"], span["last"]
        # Buckets the deleted points fell in are dropped, then rebuilt from what is left in them.
        for width in ROLLUP_WIDTHS:
            Rollup.objects.filter(
                series_id__in=ids,
                width=width,
                bucket__gte=_floor(first, width),
                bucket__lte=_floor(last, width),
            ).delete()
        refresh_rollups(series_ids=ids, first=first, last=last)
    return deleted


def _executemany_upsert(rows: list[Row]) -> int:
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        before = connection.connection.total_changes
        cursor.executemany(
            f"INSERT INTO {POINT_TABLE} AS p ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s) " + _CONFLICT,
            [(sid, adapt(ts), value, q, prov) for sid, ts, value, q, prov in _deduplicated(rows)],
        )
        return int(connection.connection.total_changes - before)
