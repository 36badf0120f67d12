"""Reading series: ranges of raw points or buckets resampled by the database.

Buckets are computed in SQL. Sub-daily steps are fixed lengths of UTC time (Paris offsets are
whole hours, so hour and quarter-hour buckets line up with local clocks); daily, gas-day and
monthly steps follow Paris wall time, so a local day has 23 or 25 hourly buckets on DST days
and still exactly one daily bucket. On PostgreSQL a resampled read of a series with rollups
(sources whose raw points expire) groups the coarsest rollup that divides the step instead of
the raw points; ``points_sql`` is the one query that ``read_points`` and every output of the
API (JSON, CSV, Arrow, Parquet) run.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from hub.models import Aggregate, Point, Rollup, Series
from hub.services import partitions

LOCAL_TZ = "Europe/Paris"
MAX_RAW_POINTS = 200_000


class Step(enum.StrEnum):
    RAW = "raw"
    MIN5 = "5min"
    MIN10 = "10min"
    MIN15 = "15min"
    MIN30 = "30min"
    HOUR = "1h"
    DAY = "1d"
    GAS_DAY = "gasday"
    MONTH = "1mo"


FIXED_SECONDS = {
    Step.MIN5: 300,
    Step.MIN10: 600,
    Step.MIN15: 900,
    Step.MIN30: 1800,
    Step.HOUR: 3600,
}


# Calendar steps are whole hours of UTC time (Paris offsets are whole hours; the gas day starts
# at 06:00), so hourly rollups serve them.
CALENDAR_STEPS = frozenset({Step.DAY, Step.GAS_DAY, Step.MONTH})
ROLLUP_WIDTHS = (3600, 900, 60)  # coarsest first


class SeriesReadError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Bucket:
    ts: dt.datetime  # start of the bucket (UTC)
    value: float | None
    count: int
    quality: int  # the worst quality among the bucket's points


def pg_bucket(sql: str, step: Step) -> str:
    """The PostgreSQL expression of the start of the ``step`` bucket holding ``sql``."""
    local = f"({sql} AT TIME ZONE '{LOCAL_TZ}')"
    if step in FIXED_SECONDS:
        return f"date_bin('{FIXED_SECONDS[step]} seconds', {sql}, 'epoch')"
    if step is Step.DAY:
        return f"(date_trunc('day', {local}) AT TIME ZONE '{LOCAL_TZ}')"
    if step is Step.MONTH:
        return f"(date_trunc('month', {local}) AT TIME ZONE '{LOCAL_TZ}')"
    if step is Step.GAS_DAY:
        # Shift wall time, not absolute time: 6 h before 06:00 is midnight on every day.
        return (
            f"((date_trunc('day', {local} - interval '6 hours') + interval '6 hours')"
            f" AT TIME ZONE '{LOCAL_TZ}')"
        )
    raise SeriesReadError("step", _("no bucket for %(step)s") % {"step": step})


class TimeBucket(models.Func):
    """Start of the bucket holding ``ts``, as a timestamp; one SQL expression per vendor."""

    output_field = models.DateTimeField()

    def __init__(self, expression: Any, *, step: Step) -> None:
        super().__init__(expression)
        self.step = step

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        return pg_bucket(sql, self.step), params

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, Any]:
        # SQLite (embedded defaults): a Python function registered on each connection.
        sql, params = compiler.compile(self.source_expressions[0])
        return f"hub_time_bucket({sql}, %s)", (*params, self.step.value)


def read_points(
    *,
    series: Series,
    start: dt.datetime,
    end: dt.datetime,
    step: Step = Step.RAW,
    aggregate: Aggregate | None = None,
) -> list[Bucket]:
    """Points of ``series`` in ``[start, end)``, raw or resampled to ``step``."""
    _check_range(start, end)
    if connection.vendor == "postgresql":
        sql, params = points_sql(
            series=series, start=start, end=end, step=step, aggregate=aggregate
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            result = [Bucket(*row) for row in cursor.fetchall()]
        if step is Step.RAW and len(result) > MAX_RAW_POINTS:
            raise SeriesReadError(
                "step",
                _("more than %(MAX_RAW_POINTS)s points: resample")
                % {"MAX_RAW_POINTS": MAX_RAW_POINTS},
            )
        return result
    points = Point.objects.filter(series=series, ts__gte=start, ts__lt=end)
    if step is Step.RAW:
        rows = points.order_by("ts").values_list("ts", "value", "quality")[: MAX_RAW_POINTS + 1]
        result = [Bucket(ts, value, 1, quality) for ts, value, quality in rows]
        if len(result) > MAX_RAW_POINTS:
            raise SeriesReadError(
                "step",
                _("more than %(MAX_RAW_POINTS)s points: resample")
                % {"MAX_RAW_POINTS": MAX_RAW_POINTS},
            )
        return result
    aggregate = aggregate or series.default_aggregate
    grouped = (
        points.annotate(bucket=TimeBucket("ts", step=step))
        .values("bucket")
        .annotate(count=Count("value"), quality=Max("quality"), last_ts=Max("ts"))
        .order_by("bucket")
    )
    if aggregate is Aggregate.LAST:
        return _with_last_values(series, [dict(row) for row in grouped])
    expression = {
        Aggregate.SUM: Sum("value"),
        Aggregate.MEAN: models.Avg("value"),
        Aggregate.MIN: Min("value"),
        Aggregate.MAX: Max("value"),
        Aggregate.COUNT: Cast(Count("value"), models.FloatField()),
    }[aggregate]
    return [
        Bucket(row["bucket"], row["value"], row["count"], row["quality"])
        for row in grouped.annotate(value=expression)
    ]


def _check_range(start: dt.datetime, end: dt.datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise SeriesReadError("start", _("timestamps need a time zone"))
    if end <= start:
        raise SeriesReadError("end", _("end must be after start"))


def rollup_width(*, series: Series, start: dt.datetime, end: dt.datetime, step: Step) -> int | None:
    """The coarsest rollup width (s) that serves ``step`` over ``[start, end)``, or ``None``.

    A rollup serves when it has rollups at all (PostgreSQL, a source whose raw points expire),
    its width divides the step and both ends of the range fall on its bucket bounds (else a
    boundary bucket would hold points outside the range).
    """
    if step is Step.RAW or not partitions.is_partitioned():
        return None
    if series.source not in partitions.short_sources():
        return None
    seconds = 3600 if step in CALENDAR_STEPS else FIXED_SECONDS[step]
    for width in ROLLUP_WIDTHS:
        if seconds % width == 0 and _aligned(start, width) and _aligned(end, width):
            return width
    return None


def _aligned(ts: dt.datetime, width: int) -> bool:
    return ts.microsecond == 0 and int(ts.timestamp()) % width == 0


_RAW_AGGREGATES = {
    Aggregate.SUM: "sum(value)",
    Aggregate.MEAN: "avg(value)",
    Aggregate.MIN: "min(value)",
    Aggregate.MAX: "max(value)",
    Aggregate.LAST: "(array_agg(value ORDER BY ts DESC))[1]",
    Aggregate.COUNT: "count(value)::float8",
}
_ROLLUP_AGGREGATES = {
    Aggregate.SUM: "sum(sum)",
    Aggregate.MEAN: "sum(sum) / NULLIF(sum(count), 0)",
    Aggregate.MIN: "min(min)",
    Aggregate.MAX: "max(max)",
    Aggregate.LAST: "(array_agg(last_value ORDER BY last_ts DESC))[1]",
    Aggregate.COUNT: "sum(count)::float8",
}


def points_sql(
    *,
    series: Series,
    start: dt.datetime,
    end: dt.datetime,
    step: Step = Step.RAW,
    aggregate: Aggregate | None = None,
    raw_limit: int | None = MAX_RAW_POINTS + 1,
) -> tuple[str, list[Any]]:
    """The PostgreSQL query of ``read_points``: rows ``(ts, value, count, quality)`` by ``ts``.

    Raw reads stop after ``raw_limit`` rows (``read_points`` refuses more than its maximum).
    """
    _check_range(start, end)
    if step is Step.RAW:
        return raw_points_sql(series_id=series.pk, start=start, end=end, raw_limit=raw_limit)
    aggregate = aggregate or series.default_aggregate
    width = rollup_width(series=series, start=start, end=end, step=step)
    if width is None:
        return (
            f"SELECT {pg_bucket('ts', step)} AS b, {_RAW_AGGREGATES[aggregate]}, "
            f"count(value)::int, max(quality) FROM {Point._meta.db_table} "
            "WHERE series_id = %s AND ts >= %s AND ts < %s GROUP BY b ORDER BY b",
            [series.pk, start, end],
        )
    return (
        f"SELECT {pg_bucket('bucket', step)} AS b, {_ROLLUP_AGGREGATES[aggregate]}, "
        f"sum(count)::int, max(quality) FROM {Rollup._meta.db_table} "
        "WHERE series_id = %s AND width = %s AND bucket >= %s AND bucket < %s "
        "GROUP BY b ORDER BY b",
        [series.pk, width, start, end],
    )


def raw_points_sql(
    *,
    series_id: int,
    start: dt.datetime,
    end: dt.datetime,
    raw_limit: int | None = MAX_RAW_POINTS + 1,
    condition: tuple[str, list[Any]] = ("TRUE", []),
    with_count: bool = True,
) -> tuple[str, list[Any]]:
    """``points_sql`` of a raw read, the rows kept only while ``condition`` (evaluated once,
    not per row: it must not refer to the points) holds; rows ``(ts, value, quality)``
    without ``with_count`` (a raw point's count is 1)."""
    _check_range(start, end)
    where, extra = condition
    columns = "ts, value, 1, quality" if with_count else "ts, value, quality"
    # The condition decides the series id once (NULL: no row), rather than filtering the
    # rows of each partition it reads.
    series, series_params = ("%s", [series_id]) if where == "TRUE" else (
        f"(SELECT %s::bigint WHERE {where})", [series_id, *extra]
    )  # fmt: skip
    return (
        f"SELECT {columns} FROM {Point._meta.db_table} WHERE series_id = {series} "
        "AND ts >= %s AND ts < %s ORDER BY ts"
        + ("" if raw_limit is None else f" LIMIT {int(raw_limit)}"),
        [*series_params, start, end],
    )


def _with_last_values(series: Series, grouped: list[dict[str, Any]]) -> list[Bucket]:
    # The value at each bucket's latest instant: one more indexed lookup, portable to SQLite.
    last = dict(
        Point.objects.filter(series=series, ts__in=[row["last_ts"] for row in grouped]).values_list(
            "ts", "value"
        )
    )
    return [
        Bucket(row["bucket"], last.get(row["last_ts"]), row["count"], row["quality"])
        for row in grouped
    ]
