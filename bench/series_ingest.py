"""Bulk series ingest into PostgreSQL: the project's upsert path against a raw COPY, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub \
        python bench/series_ingest.py [--points N] [--read-only]

Writes N points (default 1,000,000) through ``hub.services.series.upsert_rows`` into a fresh
test database, then the same rows with a bare binary ``COPY`` into an unindexed table, and
prints both rates and their ratio (target: at least 0.5). The write path is timed twice: into
months no partition holds yet (a backfill: partitions built for the batch, keys after the rows)
and into partitions created ahead and empty (live data: rows inserted into the key one by one).
Into new months it also prints the server's time building the keys, and what a raw COPY plus
those builds would give: the best ratio a path that keeps the key can reach.
Then it times reading one year of hourly points (8,760) through the REST API and prints the
median over repeated calls next to the bare SQL fetch of the same rows, the reads taking
turns (target: under 50 ms and at most 1.5x): the fetch decoded by psycopg's C loaders, and,
as printed before 2026-12-06, through Django's cursor, whose timestamp loader parses in
Python. Last, the bytes a
TIC meter's synthetic day (one frame a second, four series) takes: in the former plain table
(primary key and series index), and now as raw points (kept ``TIC_RAW_RETENTION_DAYS``) and
rollups (kept), measured with ``pg_total_relation_size``. ``--read-only`` times the read alone
(same year, same API calls, same bare fetch), without the ingest and TIC parts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from _django import cpu_seconds, setup, throwaway_database

setup()

from django.db import connection  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--reads", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--read-only", action="store_true", help="time the year's read alone (no ingest, no TIC)"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures COPY.")
    # Its own database: never the test database of a suite running meanwhile.
    with throwaway_database(f"test_hub_bench_series_ingest_{os.getpid()}"):
        run(args)


def run(args: argparse.Namespace) -> None:
    from hub.models import MeteringPoint, Organisation, SeriesKind
    from hub.services.series import ensure_series, upsert_rows

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    if args.read_only:
        read_year(organisation, args.reads)
        return
    series_ids = []
    for i in range(args.series):
        point = MeteringPoint.objects.create(
            organisation=organisation, kind="elec_prm", identifier=f"{i:014d}"
        )
        series_ids.append(
            ensure_series(
                metering_point=point,
                quantity="p",
                unit="W",
                source="bench",
                kind=SeriesKind.INSTANT,
            ).pk
        )
    per_series = args.points // args.series
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    step = dt.timedelta(minutes=10)
    rows = [
        (sid, start + step * i, float(i % 977), 0, False)
        for sid in series_ids
        for i in range(per_series)
    ]
    total = len(rows)

    with connection.cursor() as cursor:
        for table in ("bench_raw", "bench_keyed"):
            cursor.execute(
                f"CREATE TABLE {table} (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
                "value float8, quality smallint NOT NULL, provisional bool NOT NULL)"
            )
        cursor.execute("ALTER TABLE bench_keyed ADD PRIMARY KEY (series_id, ts)")

    key_builds: list[float] = []

    def project() -> None:
        upsert_rows(rows=rows)

    def project_timing_keys() -> None:
        # The new months' keys are built by the server after the rows (ALTER TABLE … ADD
        # PRIMARY KEY): their time is the part of the write path no client code can shorten.
        spent = [0.0]

        def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                if "ADD PRIMARY KEY" in sql:
                    spent[0] += time.perf_counter() - t0

        with connection.execute_wrapper(timed):
            upsert_rows(rows=rows)
        key_builds.append(spent[0])

    def drop_partitions() -> None:
        from hub.services import partitions

        with connection.cursor() as cursor:
            for name in partitions.partitions(partitions.KEPT):
                cursor.execute(f"DROP TABLE {name}")

    def raw_copy(table: str) -> None:
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {table} (series_id, ts, value, quality, provisional) "
                "FROM STDIN (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["int8", "timestamptz", "float8", "int2", "bool"])
            for row in rows:
                copy.write_row(row)

    # Each path runs `rounds` times on an emptied table, interleaved, and keeps its best time:
    # the first writer of a run would otherwise pay for the WAL segments the others reuse.
    # "new": the months' partitions are dropped first; "ahead": they exist, emptied.
    timings: dict[str, list[float]] = {"new": [], "ahead": [], "raw": [], "keyed": []}
    # CPU seconds of this process and of its database backend, per run: (client, server).
    cpu: dict[str, list[tuple[float, float | None]]] = {"new": [], "raw": []}
    backend = backend_cpu_reader()
    for _ in range(args.rounds):
        for name, fn, table in (
            ("raw", lambda: raw_copy("bench_raw"), "bench_raw"),
            ("new", project_timing_keys, None),
            ("keyed", lambda: raw_copy("bench_keyed"), "bench_keyed"),
            ("ahead", project, "hub_point"),
        ):
            with connection.cursor() as cursor:
                if table is None:
                    drop_partitions()
                else:
                    cursor.execute(f"TRUNCATE {table}")
                cursor.execute("CHECKPOINT")
            client0, server0 = time.process_time(), backend()
            t0 = time.perf_counter()
            fn()
            timings[name].append(time.perf_counter() - t0)
            if name in cpu:
                server1 = backend()
                server = None if server0 is None or server1 is None else server1 - server0
                cpu[name].append((time.process_time() - client0, server))
    new_s, ahead_s, raw_s, keyed_s = (min(timings[k]) for k in ("new", "ahead", "raw", "keyed"))
    keys_s = key_builds[timings["new"].index(new_s)]
    raw_cpu = cpu["raw"][timings["raw"].index(raw_s)]
    new_cpu = cpu["new"][timings["new"].index(new_s)]

    t0 = time.perf_counter()
    upsert_rows(rows=rows)
    replay_s = time.perf_counter() - t0

    print(f"points: {total:,} in {args.series} series")
    print(
        f"write path, months no partition holds (backfill, keys built after the rows): "
        f"{total / new_s:,.0f} points/s ({new_s:.2f} s)"
    )
    print(
        f"write path, partitions created ahead (live data, rows into the key):         "
        f"{total / ahead_s:,.0f} points/s ({ahead_s:.2f} s)"
    )
    print(
        f"baseline raw COPY into a bare table:                                        "
        f"{total / raw_s:,.0f} points/s ({raw_s:.2f} s)"
    )
    print(
        f"ratio write path / raw COPY: {raw_s / new_s:.2f} into new months, "
        f"{raw_s / ahead_s:.2f} into partitions made ahead (target >= 0.5)"
    )
    print(
        f"  of the write path into new months, the server building the keys: {keys_s:.2f} s; "
        f"a raw COPY plus those builds would be {raw_s / (raw_s + keys_s):.2f} of the raw COPY"
    )
    print_cpu(raw_s=raw_s, raw_cpu=raw_cpu, new_cpu=new_cpu)
    print(
        f"second baseline, raw COPY into a table with the same primary key: "
        f"{total / keyed_s:,.0f} points/s ({keyed_s:.2f} s); ratio write path / keyed COPY: "
        f"{keyed_s / new_s:.2f} into new months, {keyed_s / ahead_s:.2f} into partitions made ahead"
    )
    print(
        f"idempotent replay of the same points (no change written): "
        f"{total / replay_s:,.0f} points/s ({replay_s:.2f} s)"
    )
    read_year(organisation, args.reads)
    tic_day(organisation)


def backend_cpu_reader() -> Callable[[], float | None]:
    """A function giving the CPU seconds the connection's backend has used, or ``None`` when
    its process is not on this host (or not readable): a pid of another host's server may
    name some other process here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        local = Path(f"/proc/{pid}/comm").read_text().startswith("postgres")
    except OSError:
        local = False
    return partial(cpu_seconds, pid) if local else lambda: None


def print_cpu(
    *, raw_s: float, raw_cpu: tuple[float, float | None], new_cpu: tuple[float, float | None]
) -> None:
    # On one connection the server runs the COPY, the routing and the key builds one after the
    # other: the backend's CPU alone bounds the write path, whatever the client does meanwhile.
    (raw_client, raw_server), (new_client, new_server) = raw_cpu, new_cpu
    if raw_server is None or not new_server:  # unreadable, or under the clock's tick
        print(
            f"  CPU of this process: raw COPY {raw_client:.2f} s, write path into new months "
            f"{new_client:.2f} s (the database backend's: not readable from here, or under a tick)"
        )
        return
    print(
        f"  CPU (this process / its database backend), same runs: raw COPY "
        f"{raw_client:.2f} / {raw_server:.2f} s, write path into new months {new_client:.2f} / "
        f"{new_server:.2f} s; the backend's work alone bounds one connection's ratio at "
        f"{raw_s / new_server:.2f}"
    )


def read_year(organisation, reads: int) -> None:
    from rest_framework.test import APIClient

    from hub.clock import local_day_bounds
    from hub.models import MeteringPoint, SeriesKind
    from hub.services.series import PointIn, ensure_series, upsert_points
    from hub.services.tokens import create_token

    point = MeteringPoint.objects.create(
        organisation=organisation, kind="elec_prm", identifier="99999999999999"
    )
    series = ensure_series(
        metering_point=point,
        quantity="e",
        unit="Wh",
        source="bench",
        kind=SeriesKind.INTERVAL,
        step_seconds=3600,
    )
    start, _ = local_day_bounds(dt.date(2025, 1, 1))
    _, end = local_day_bounds(dt.date(2025, 12, 31))
    hours = int((end - start).total_seconds() // 3600)
    upsert_points(
        series=series, points=[PointIn(start + dt.timedelta(hours=h), 1.0) for h in range(hours)]
    )
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Bearer " + create_token(organisation=organisation, name="b").plaintext
    )
    url = f"/api/v1/series/{series.pk}/points/"
    params = {"start": start.isoformat(), "end": end.isoformat()}
    from psycopg.types.datetime import TimestamptzLoader

    def api() -> float:
        t0 = time.perf_counter()
        response = client.get(url, params)
        content = b"".join(response.streaming_content) if response.streaming else response.content
        seconds = time.perf_counter() - t0
        assert response.status_code == 200, content[:300]
        assert len(json.loads(content)["points"]) == hours
        return seconds

    def fetch(*, c_loader: bool) -> float:
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            if c_loader:
                # psycopg's own loader; Django's (the default) parses each timestamp in Python.
                cursor.cursor.adapters.register_loader("timestamptz", TimestamptzLoader)
            cursor.execute(
                "SELECT ts, value, quality FROM hub_point WHERE series_id = %s "
                "AND ts >= %s AND ts < %s ORDER BY ts",
                [series.pk, start, end],
            )
            assert len(cursor.fetchall()) == hours
        return time.perf_counter() - t0

    # The three reads take turns, in a rotating order, after one call of each that is not
    # counted (the first call of a process imports and compiles what later calls reuse): each
    # median is then taken over the same minutes of this shared machine.
    turns = {
        "api": api,
        "fair": partial(fetch, c_loader=True),
        "django": partial(fetch, c_loader=False),
    }
    for turn in turns.values():
        turn()
    seconds: dict[str, list[float]] = {name: [] for name in turns}
    names = list(turns)
    for number in range(reads):
        for name in names[number % 3 :] + names[: number % 3]:
            seconds[name].append(turns[name]())
    timings = seconds["api"]
    fair = statistics.median(seconds["fair"])
    django_loader = statistics.median(seconds["django"])
    median = statistics.median(timings)
    print(
        f"one year of hourly points ({hours:,}) through the API: median {median * 1000:.1f} ms "
        f"over {reads} calls; bare SQL fetch of the same rows: {fair * 1000:.1f} ms "
        f"(API / SQL = {median / fair:.2f}x); the fetch through Django's timestamp loader "
        f"(the baseline printed before): {django_loader * 1000:.1f} ms "
        f"(API / that = {median / django_loader:.2f}x)"
    )


def tic_day(organisation) -> None:
    """Bytes per TIC meter per day, before (plain table) and after (raw tier + rollups)."""
    from hub import quantities
    from hub.models import MeteringPoint, SeriesKind
    from hub.services.series import ensure_series, upsert_rows

    point = MeteringPoint.objects.create(
        organisation=organisation, kind="tic_meter", identifier="021861348497"
    )
    names = (
        quantities.APPARENT_POWER_IMPORT,
        quantities.index_for("EASF01"),
        quantities.SUBSCRIBED_POWER_SHARE,
        quantities.tariff_period_for("distributeur"),
    )
    ids = [
        ensure_series(
            metering_point=point,
            quantity=q.name,
            unit=q.unit,
            source="tic",
            kind=SeriesKind(q.kind.value),
        ).pk
        for q in names
    ]
    day = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    frames = [day + dt.timedelta(seconds=s) for s in range(86_400)]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_plain (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
            "value float8, quality smallint NOT NULL, provisional bool NOT NULL, "
            "PRIMARY KEY (series_id, ts))"
        )
        cursor.execute("CREATE INDEX ON bench_plain (series_id)")
        # Filled as the write path fills the new table: one batch a minute, in arrival order.
        for start in range(0, len(frames), 60):
            cursor.execute(
                "INSERT INTO bench_plain SELECT s, t, "
                "(extract(epoch FROM t)::bigint %% 5000)::float8, 0, false "
                "FROM unnest(%s::timestamptz[]) t, unnest(%s::bigint[]) s ORDER BY t, s",
                [frames[start : start + 60], ids],
            )
    t0 = time.perf_counter()
    for start in range(0, len(frames), 60):  # one batch a minute, as a reader flushes
        upsert_rows(
            rows=[
                (sid, ts, float(int(ts.timestamp()) % 5000), 0, False)
                for ts in frames[start : start + 60]
                for sid in ids
            ]
        )
    ingest_s = time.perf_counter() - t0

    def size(sql: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute(sql)
            return int(cursor.fetchone()[0])

    before = size("SELECT pg_total_relation_size('bench_plain')")
    raw = size(f"SELECT pg_total_relation_size('hub_point_short_p{day:%Y%m%d}')")
    # Rollups share one table with other series: this day's share, by row count, compacted
    # (an upsert leaves dead versions of the 15 min and 1 h rows, reused by the next days).
    with connection.cursor() as cursor:
        cursor.execute("VACUUM FULL hub_rollup")
    rollups = size(
        "SELECT pg_total_relation_size('hub_rollup') * (SELECT count(*) FROM hub_rollup "
        "WHERE series_id = ANY(%s)) / GREATEST((SELECT count(*) FROM hub_rollup), 1)".replace(
            "%s", "ARRAY[" + ",".join(map(str, ids)) + "]::bigint[]"
        )
    )
    points = len(frames) * len(ids)
    print(
        f"TIC meter, one day at 1 frame/s ({points:,} points in {len(ids)} series), stored "
        f"through the write path with its 1 min / 15 min / 1 h rollups in {ingest_s:.1f} s "
        f"({points / ingest_s:,.0f} points/s, 1,440 one-minute batches)"
    )
    print(
        f"  before (plain table kept forever): {before / 1e6:.1f} MB per meter per day"
        f"  -> after: raw {raw / 1e6:.1f} MB per day kept {_retention()} days + rollups "
        f"{rollups / 1e6:.2f} MB per day kept; growth once past the retention: "
        f"{rollups / 1e6:.2f} MB per day ({before / max(rollups, 1):.0f}x less)"
    )


def _retention() -> int:
    from hub.services.partitions import raw_retention_days

    return raw_retention_days()


if __name__ == "__main__":
    main()
