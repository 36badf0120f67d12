"""The token-authenticated REST API under concurrent clients, beside a ping on the same server.

gunicorn runs with ``deploy/gunicorn.conf.py`` (its worker count and class unless WORKERS,
THREADS or WORKER_CLASS say otherwise) on a PostgreSQL database of its own (``<DATABASE_URL's
name>_api_load``, created and migrated here) and Redis when ``REDIS_URL`` is set, as in
production. The load comes from wrk (required: ``apt-get install wrk``; a Python client on
this machine took the server's CPU), CLIENTS keep-alive connections on one endpoint for
DURATION seconds, then the next:

- baseline: ``GET /api/v1/ping`` (token checked, throttles counted, nothing else);
- ``GET /api/v1/metering-points/`` (a page of 50), ``GET /api/v1/series/?metering_point=``,
- ``GET /api/v1/series/{id}/points/`` (one day of 15-minute points, raw, a different day per call).

ROUNDS passes of ping then the three endpoints, interleaved, so a shared machine's load swings
hit the baseline as much as the figures. Prints requests/s, p50 and the worst p99 per
endpoint, the ratio to the ping, and any socket error (a reset is a read error) or non-200.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/api_load.py
    [CLIENTS=20 DURATION=10 ROUNDS=2 WORKERS= THREADS= WORKER_CLASS= MAX_REQUESTS=]
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time

import _wrk
from _gunicorn import bench_database, free_port, manage, serve, server_env, stop

CLIENTS = int(os.environ.get("CLIENTS", "20"))
DURATION = float(os.environ.get("DURATION", "10"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
DAYS = 60
POINTS = 50

SETUP = """
import datetime as dt
from hub.models import ApiToken, MeteringPoint, Organisation, SeriesKind
from hub.quantities import ACTIVE_POWER_IMPORT
from hub.services.series import PointIn, ensure_series, upsert_points
from hub.services.tokens import create_token
org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
points = [MeteringPoint.objects.get_or_create(organisation=org, kind="elec_prm",
          identifier=f"{i:014d}")[0] for i in range(%(points)d)]
series = ensure_series(metering_point=points[0], quantity=ACTIVE_POWER_IMPORT.name, unit="kW",
                       source="bench", kind=SeriesKind.INSTANT, step_seconds=900)
first = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
upsert_points(series=series, points=[PointIn(first + dt.timedelta(minutes=15 * i), i %% 97)
                                     for i in range(96 * %(days)d)])
ApiToken.objects.filter(organisation=org).delete()
print(points[0].pk, series.pk, create_token(organisation=org, name="bench").plaintext)
"""


def _day_urls(series_id: str) -> list[str]:
    first = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    urls = []
    for n in range(DAYS - 1):
        start, end = first + dt.timedelta(days=n), first + dt.timedelta(days=n + 1)
        urls.append(
            f"/api/v1/series/{series_id}/points/?start={start:%Y-%m-%dT%H:%M:%SZ}"
            f"&end={end:%Y-%m-%dT%H:%M:%SZ}"
        )
    return urls


def main() -> None:
    _wrk.require()
    database_url = bench_database("api_load")
    env = server_env(database_url)
    t0 = time.monotonic()
    manage(env, "migrate", "--no-input", "-v", "0")
    out = manage(env, "shell", "-c", SETUP % {"points": POINTS, "days": DAYS})
    point_id, series_id, token = out.strip().splitlines()[-1].split()
    print(f"database ready in {time.monotonic() - t0:.1f} s; {os.getloadavg()[0]:.2f} load")
    options = []
    if "WORKERS" in os.environ:
        options += ["--workers", os.environ["WORKERS"]]
    if "THREADS" in os.environ:
        options += ["--threads", os.environ["THREADS"]]
        options += ["--worker-class", os.environ.get("WORKER_CLASS", "gthread")]
    elif "WORKER_CLASS" in os.environ:
        options += ["--worker-class", os.environ["WORKER_CLASS"]]
    if "MAX_REQUESTS" in os.environ:
        options += ["--max-requests", os.environ["MAX_REQUESTS"]]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(env, port, options)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    endpoints: list[tuple[str, list[str]]] = [
        ("ping (baseline)", ["/api/v1/ping"]),
        ("metering points, page of 50", ["/api/v1/metering-points/?limit=50"]),
        ("series of a point", [f"/api/v1/series/?metering_point={point_id}"]),
        ("series points, 1 day of 15 min", _day_urls(series_id)),
    ]
    runs: dict[str, list[_wrk.Run]] = {name: [] for name, _ in endpoints}
    loads: list[float] = []
    try:
        print(f"gunicorn {' '.join(options) or 'as configured'} on {base}; {CLIENTS} connections")
        # Warm the workers up (imports, connections, prepared caches).
        _wrk.run(base, ["/api/v1/ping"], headers=headers, connections=CLIENTS, seconds=2)
        for _ in range(ROUNDS):
            for name, paths in endpoints:
                result = _wrk.run(
                    base, paths, headers=headers, connections=CLIENTS, seconds=DURATION
                )
                runs[name].append(result)
                loads.append(os.getloadavg()[0])
    finally:
        stop(server)
    ping = runs[endpoints[0][0]]
    ping_rate = sum(r.requests for r in ping) / sum(r.seconds for r in ping)
    failed = False
    for name, results in runs.items():
        rate = sum(r.requests for r in results) / sum(r.seconds for r in results)
        p50 = statistics.median(r.p50_ms for r in results)
        p99 = max(r.p99_ms for r in results)
        per_round = " ".join(f"{r.rate:.0f}" for r in results)
        print(
            f"{name:32s} {rate:7.0f} req/s ({per_round})  p50 {p50:6.1f} ms  "
            f"p99 {p99:6.1f} ms  ratio to ping {rate / ping_rate:.2f}"
        )
        for r in results:
            if r.socket_errors or r.non_2xx:
                failed = True
                print(f"  errors: socket {r.socket_errors or 'none'}, non-2xx {r.non_2xx}")
    print(f"load average during the run: {min(loads):.2f} to {max(loads):.2f}")
    if failed:
        sys.exit("some calls failed")


if __name__ == "__main__":
    main()
