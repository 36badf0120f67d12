"""Reading series: ranges of raw points or buckets resampled by the database.

Buckets are computed in SQL. Sub-daily steps are fixed lengths of UTC time (Paris offsets are
whole hours, so hour and quarter-hour buckets line up with local clocks); daily, gas-day and
monthly steps follow Paris wall time, so a local day has 23 or 25 hourly buckets on DST days
and still exactly one daily bucket.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import Count, Max, Min, Sum
from django.db.models.functions import Cast

from hub.models import Aggregate, Point, Series

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


class TimeBucket(models.Func):
    """Start of the bucket holding ``ts``, as a timestamp; one SQL expression per vendor."""

    output_field = models.DateTimeField()

    def __init__(self, expression: Any, *, step: Step) -> None:
        super().__init__(expression)
        self.step = step

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        sql, params = compiler.compile(self.source_expressions[0])
        local = f"({sql} AT TIME ZONE '{LOCAL_TZ}')"
        if self.step in FIXED_SECONDS:
            n = FIXED_SECONDS[self.step]
            return f"to_timestamp(floor(extract(epoch FROM {sql}) / {n}) * {n})", params
        if self.step is Step.DAY:
            return f"(date_trunc('day', {local}) AT TIME ZONE '{LOCAL_TZ}')", params
        if self.step is Step.MONTH:
            return f"(date_trunc('month', {local}) AT TIME ZONE '{LOCAL_TZ}')", params
        if self.step is Step.GAS_DAY:
            # Shift wall time, not absolute time: 6 h before 06:00 is midnight on every day.
            return (
                f"((date_trunc('day', {local} - interval '6 hours') + interval '6 hours')"
                f" AT TIME ZONE '{LOCAL_TZ}')",
                params,
            )
        raise SeriesReadError("step", f"no bucket for {self.step}")

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
    if start.tzinfo is None or end.tzinfo is None:
        raise SeriesReadError("start", "timestamps need a time zone")
    if end <= start:
        raise SeriesReadError("end", "end must be after start")
    points = Point.objects.filter(series=series, ts__gte=start, ts__lt=end)
    if step is Step.RAW:
        rows = points.order_by("ts").values_list("ts", "value", "quality")[: MAX_RAW_POINTS + 1]
        result = [Bucket(ts, value, 1, quality) for ts, value, quality in rows]
        if len(result) > MAX_RAW_POINTS:
            raise SeriesReadError("step", f"more than {MAX_RAW_POINTS} points: resample")
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
