"""The token-authenticated REST API under concurrent clients, beside a ping on the same server.

gunicorn runs with ``deploy/gunicorn.conf.py`` (its worker count and class unless WORKERS or
THREADS say otherwise) on a PostgreSQL database of its own (``<DATABASE_URL's name>_api_load``,
created and migrated here) and Redis when ``REDIS_URL`` is set, as in production. CLIENTS
concurrent clients (asyncio + httpx, one connection each) call one endpoint for DURATION
seconds, then the next:

- baseline: ``GET /api/v1/ping`` (token checked, throttles counted, nothing else);
- ``GET /api/v1/metering-points/`` (a page of 50), ``GET /api/v1/series/?metering_point=``,
- ``GET /api/v1/series/{id}/points/`` (one day of 15-minute points, raw, a different day per call).

Prints requests/s, p50 and p99 per endpoint and the ratio to the ping.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/api_load.py [CLIENTS=20 DURATION=15]
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable

import httpx
from _gunicorn import bench_database, free_port, manage, serve, server_env, stop

CLIENTS = int(os.environ.get("CLIENTS", "20"))
DURATION = float(os.environ.get("DURATION", "15"))
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


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def hammer(base: str, token: str, url_for: Callable[[int], str]) -> tuple[float, list[float]]:
    latencies: list[float] = []
    failures: list[str] = []
    stop_at = time.monotonic() + DURATION
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def client(i: int) -> None:
        n = i
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
            while time.monotonic() < stop_at:
                t0 = time.perf_counter()
                response = await http.get(url_for(n))
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                n += CLIENTS

    started = time.monotonic()
    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    elapsed = time.monotonic() - started
    if failures:
        sys.exit(f"{len(failures)} failed calls, first: {failures[0]}")
    return len(latencies) / elapsed, latencies


def main() -> None:
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
        options += ["--threads", os.environ["THREADS"], "--worker-class", "gthread"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(env, port, options)

    def day(n: int) -> str:
        start = f"2026-{1 + (n % 59) // 31:02d}-{1 + (n % 59) % 31:02d}T00:00:00Z"
        return f"/api/v1/series/{series_id}/points/?start={start}&end=" + _next_day(start)

    endpoints: list[tuple[str, Callable[[int], str]]] = [
        ("ping (baseline)", lambda n: "/api/v1/ping"),
        ("metering points, page of 50", lambda n: "/api/v1/metering-points/?limit=50"),
        ("series of a point", lambda n: f"/api/v1/series/?metering_point={point_id}"),
        ("series points, 1 day of 15 min", day),
    ]
    results = []
    try:
        print(f"gunicorn {' '.join(options) or 'as configured'} on {base}; {CLIENTS} clients")
        asyncio.run(hammer(base, token, lambda n: "/api/v1/ping"))  # warm the workers up
        for name, url_for in endpoints:
            rate, latencies = asyncio.run(hammer(base, token, url_for))
            results.append((name, rate, latencies))
    finally:
        stop(server)
    ping_rate = results[0][1]
    for name, rate, latencies in results:
        print(
            f"{name:32s} {rate:7.0f} req/s  p50 {statistics.median(latencies):6.1f} ms  "
            f"p99 {percentile(latencies, 99):6.1f} ms  ratio to ping {rate / ping_rate:.2f}"
        )
    print(f"load average after the run: {os.getloadavg()[0]:.2f}")


def _next_day(start: str) -> str:
    import datetime as dt

    day = dt.datetime.fromisoformat(start.replace("Z", "+00:00")) + dt.timedelta(days=1)
    return day.isoformat().replace("+00:00", "Z")


if __name__ == "__main__":
    main()
