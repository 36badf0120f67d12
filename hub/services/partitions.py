"""The points table's partitions on PostgreSQL: created ahead of the data, dropped past retention.

``hub_point`` is partitioned by list on a ``tier`` column that no model declares (SQLite keeps
the plain table): tier 0, ``hub_point_kept``, holds the series kept as long as their app wants
(GRDF inside the consent, Smart OA, market signals…), by month; tier 1, ``hub_point_short``,
holds the raw points of the sources in ``SERIES_RAW_RETENTION_DAYS`` (TIC), by day. Each tier
table has its default ``tier``, so a ``COPY`` into it needs no extra column. Retention drops a
day's partition once all of it is older than the retention, never ``DELETE``s rows.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

PARENT = "hub_point"
# One lock for every partition DDL: two writers creating the same month wait for each other.
_LOCK_KEY = 0x6875625F70617274  # "hub_part"


class Period(enum.StrEnum):
    DAY = "day"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class Tier:
    number: int
    table: str
    period: Period


KEPT = Tier(0, "hub_point_kept", Period.MONTH)
SHORT = Tier(1, "hub_point_short", Period.DAY)
TIERS = (KEPT, SHORT)


def short_sources() -> frozenset[str]:
    """Sources whose raw points expire (and are rolled up)."""
    return frozenset(settings.SERIES_RAW_RETENTION_DAYS)


def raw_retention_days() -> int:
    # One short tier for every expiring source: it is kept as long as the longest of them.
    return max(settings.SERIES_RAW_RETENTION_DAYS.values(), default=0)


def period_start(ts: dt.datetime, period: Period) -> dt.datetime:
    utc = ts.astimezone(dt.UTC)
    day = dt.datetime(utc.year, utc.month, utc.day, tzinfo=dt.UTC)
    return day if period is Period.DAY else day.replace(day=1)


def next_start(start: dt.datetime, period: Period) -> dt.datetime:
    if period is Period.DAY:
        return start + dt.timedelta(days=1)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def leaf_name(tier: Tier, start: dt.datetime) -> str:
    return (
        f"{tier.table}_p{start:%Y%m%d}"
        if tier.period is Period.DAY
        else (f"{tier.table}_p{start:%Y%m}")
    )


def leaf_start(tier: Tier, name: str) -> dt.datetime | None:
    """The lower bound of a partition from its name (``None``: not one of ours)."""
    prefix = f"{tier.table}_p"
    if not name.startswith(prefix):
        return None
    fmt = "%Y%m%d" if tier.period is Period.DAY else "%Y%m"
    try:
        return dt.datetime.strptime(name[len(prefix) :], fmt).replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def _wanted(tier: Tier, first: dt.datetime, last: dt.datetime) -> list[tuple[str, dt.datetime]]:
    wanted = []
    start = period_start(first, tier.period)
    while start <= last:
        wanted.append((leaf_name(tier, start), start))
        start = next_start(start, tier.period)
    return wanted


def ensure_partitions(*, tier: Tier, first: dt.datetime, last: dt.datetime) -> list[str]:
    """Create the partitions of ``tier`` that ``[first, last]`` needs; returns those created."""
    wanted = _wanted(tier, first, last)
    # The catalogue is asked every time (one indexed query): a cache in the process would
    # outlive a rolled-back creation or another process's drop.
    created = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname = ANY(%s)",
            [tier.table, [name for name, _ in wanted]],
        )
        present = {row[0] for row in cursor.fetchall()}
        todo = [(name, start) for name, start in wanted if name not in present]
        if todo:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
            for name, start in todo:
                # IF NOT EXISTS: another writer may have created it while we waited.
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {tier.table} "
                    "FOR VALUES FROM (%s) TO (%s)",
                    [start, next_start(start, tier.period)],
                )
                created.append(name)
    return created


def load_into_new_partitions(
    *, tier: Tier, first: dt.datetime, last: dt.datetime, copy: Callable[[str], None]
) -> bool:
    """Store a batch spanning ``[first, last]`` in partitions created for it, when none of
    those partitions exists yet (a backfill, an import of history); returns ``False``, having
    done nothing, when one does.

    ``copy(table)`` writes the batch's rows into ``table``: a private table partitioned like the
    tier, whose partitions carry no key yet. Each key is then built in one sorted pass and each
    partition attached to the tier. Inserting row by row into a key costs about three times the
    bare ``COPY`` (a B-tree insertion and its WAL record per row); a built key, a fraction. A
    repeated (series, ts) in the batch fails the key's build, which the caller catches to merge
    the batch instead. Attaching takes a SHARE UPDATE EXCLUSIVE lock on the tier: reads and
    writes go on. The partition lock is held until commit, so no other writer creates these
    partitions meanwhile; rows of other writers cannot be in them (they did not exist).
    """
    wanted = _wanted(tier, first, last)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname = ANY(%s)",
            [[name for name, _ in wanted]],
        )
        if cursor.fetchone()[0]:
            return False
        loader = f"{tier.table}_load"
        cursor.execute(
            f"CREATE TABLE {loader} (LIKE {tier.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
            "PARTITION BY RANGE (ts)"
        )
        for name, start in wanted:
            # The CHECK states the partition's bounds in the tier, so attaching it does not
            # scan the rows again to prove them.
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {loader} (CONSTRAINT {name}_bounds "
                f"CHECK (tier = {tier.number} AND ts >= %s AND ts < %s)) "
                "FOR VALUES FROM (%s) TO (%s)",
                [start, next_start(start, tier.period)] * 2,
            )
        copy(loader)
        for name, start in wanted:
            cursor.execute(f"ALTER TABLE {loader} DETACH PARTITION {name}")
            cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (series_id, ts)")
            cursor.execute(
                f"ALTER TABLE {tier.table} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
                [start, next_start(start, tier.period)],
            )
            cursor.execute(f"ALTER TABLE {name} DROP CONSTRAINT {name}_bounds")
        cursor.execute(f"DROP TABLE {loader}")
    return True


def create_ahead(*, now: dt.datetime) -> list[str]:
    """Partitions for the data about to arrive: this month and the next two of kept points,
    today and ``SERIES_PARTITIONS_AHEAD_DAYS`` days of short-lived ones."""
    if not is_partitioned():
        return []
    month = period_start(now, Period.MONTH)
    in_two_months = next_start(next_start(month, Period.MONTH), Period.MONTH)
    ahead = dt.timedelta(days=settings.SERIES_PARTITIONS_AHEAD_DAYS)
    with transaction.atomic():
        created = ensure_partitions(tier=KEPT, first=month, last=in_two_months)
        created += ensure_partitions(tier=SHORT, first=now, last=now + ahead)
    return created


def drop_expired(*, now: dt.datetime) -> list[str]:
    """Drop the short-lived partitions whose every instant is older than the raw retention."""
    if not is_partitioned() or not settings.SERIES_RAW_RETENTION_DAYS:
        return []
    cutoff = now - dt.timedelta(days=raw_retention_days())
    dropped = []
    with transaction.atomic(), connection.cursor() as cursor:
        for name in partitions(SHORT):
            start = leaf_start(SHORT, name)
            if start is not None and next_start(start, SHORT.period) <= cutoff:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
                cursor.execute(f"DROP TABLE {name}")
                dropped.append(name)
    return dropped


def partitions(tier: Tier) -> list[str]:
    """Names of the partitions of ``tier``, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
            [tier.table],
        )
        return [row[0] for row in cursor.fetchall()]
