"""Throughput of the Flex Ready operator API (create + confirm) against a minimal DRF endpoint.

Both run on the same gunicorn server (127.0.0.1, a free port) in the same run, on a PostgreSQL
database of their own (``<DATABASE_URL's name>_flexready_bench``, created and migrated here),
with the same JWT. N concurrent httpx clients hammer each side for DURATION seconds, in ROUNDS
alternating passes (ping, operator API, ping, ...) so that a shared machine's load swings hit
both sides alike:

- baseline: ``GET /api/v1/flexready/ping`` (JWT checked, organisation looked up, nothing else);
- operator API: ``POST …/flexibilities/request`` then ``POST …/request/{id}/confirm``, each
  client on its own asset, every request checked against the potential and audited.

Each side also prints its CPU per request, read from ``/proc``: the gunicorn workers, every
PostgreSQL process (backends, WAL writer; meaningful on an otherwise idle machine) and this
process (the clients). Where the rates' ratio falls below the CPU totals' ratio, the write
path waits (its commits' flushes) rather than computes.

    DATABASE_URL=postgres://… python bench/flexready_api.py  [CLIENTS=8 DURATION=20 ROUNDS=2]
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from _gunicorn import CpuMeter, bench_database, free_port, manage, serve, server_env, stop

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = int(os.environ.get("CLIENTS", "8"))
DURATION = float(os.environ.get("DURATION", "20"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
WORKERS = int(os.environ.get("WORKERS", "2"))
THREADS = int(os.environ.get("THREADS", "4"))
SECRET = "bench-secret-" + uuid.uuid4().hex
ISSUER = "urn:bench:flexready"


SETUP = """
import datetime as dt, jwt
from django.utils import timezone
from hub.models import Organisation
from flexready.models import Asset, Bacs, OperatorIdentity
org, _ = Organisation.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
OperatorIdentity.objects.update_or_create(
    issuer=%(issuer)r, subject="", defaults={"organisation": org})
bacs, _ = Bacs.objects.get_or_create(
    organisation=org, bacs_id="bench-bacs", defaults={"name": "Bench"})
for i in range(%(clients)d):
    Asset.objects.get_or_create(bacs=bacs, asset_id=f"asset-{i}", defaults=dict(
        flex_product="WID", power_w=10**9, mobilisation_delay_s=0, max_duration_s=86400,
        activations_per_day=32000))
exp = int((timezone.now() + dt.timedelta(hours=1)).timestamp())
print(jwt.encode({"iss": %(issuer)r, "sub": "bench", "exp": exp}, %(secret)r, algorithm="HS256"))
"""


def hammer(
    name: str,
    work: Callable[[httpx.Client, int, list[float]], int],
    token: str,
    base: str,
    meter: CpuMeter,
    first: int = 0,
) -> tuple[float, list[float], int, tuple[float, float, float]]:
    """Run ``work`` in CLIENTS threads for DURATION / ROUNDS s; returns (requests/s, latencies,
    errors, CPU ms per request of the workers, PostgreSQL and the clients)."""
    latencies: list[float] = []
    counts = [0] * CLIENTS
    errors = [0] * CLIENTS
    stop = time.monotonic() + DURATION / ROUNDS
    lock = threading.Lock()

    def run(i: int) -> None:
        mine: list[float] = []
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            n = first  # each round goes on where the last one stopped: no requestID twice
            while time.monotonic() < stop:
                try:
                    counts[i] += work(client, i * 1_000_000 + n, mine)
                except AssertionError:
                    errors[i] += 1
                n += 1
        with lock:
            latencies.extend(mine)

    meter.start()
    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = tuple(1000 * seconds / max(sum(counts), 1) for seconds in meter.read())
    rate = sum(counts) / elapsed
    total, failed = sum(counts), sum(errors)
    print(
        f"{name}: {total} requests in {elapsed:.1f} s = {rate:.0f} req/s, errors {failed}; "
        f"CPU per request: workers {cpu[0]:.2f} / PostgreSQL {cpu[1]:.2f} / clients "
        f"{cpu[2]:.2f} ms"
    )
    return rate, latencies, sum(errors), (cpu[0], cpu[1], cpu[2])


def timed(
    client: httpx.Client, latencies: list[float], method: str, url: str, **kw: object
) -> httpx.Response:
    t0 = time.perf_counter()
    response = client.request(method, url, **kw)  # type: ignore[arg-type]
    latencies.append((time.perf_counter() - t0) * 1000)
    return response


def ping(client: httpx.Client, n: int, latencies: list[float]) -> int:
    response = timed(client, latencies, "GET", "/api/v1/flexready/ping")
    assert response.status_code == 200, response.text
    return 1


def create_and_confirm(client: httpx.Client, n: int, latencies: list[float]) -> int:
    asset = f"asset-{n // 1_000_000}"
    # Each request on its own future hour, so the day's activation count stays small.
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=n % 1_000_000)
    power = [
        {
            "power": {"unit": "W", "multiplier": "k", "value": 50.0},
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=30)).isoformat(),
        }
    ]
    base = f"/api/v1/operator/bacs/bench-bacs/assets/{asset}/flexibilities/request"
    request_id = f"b-{RUN}-{n}"
    created = timed(
        client,
        latencies,
        "POST",
        base,
        json={"requestID": request_id, "flexProduct": "WID", "power": power},
    )
    assert created.status_code == 201, created.text
    confirmed = timed(
        client,
        latencies,
        "POST",
        f"{base}/{request_id}/confirm",
        json={"flexProduct": "WID", "power": power, "ackPrice": {"unit": "EUR/MWh", "value": 100}},
    )
    assert confirmed.status_code == 200, confirmed.text
    return 2


RUN = uuid.uuid4().hex[:8]


def percentiles(latencies: list[float]) -> str:
    if not latencies:
        return "-"
    q = statistics.quantiles(latencies, n=20)
    return f"p50 {statistics.median(latencies):.1f} ms, p95 {q[18]:.1f} ms"


def main() -> None:
    database_url = bench_database("flexready_bench")
    # The bench measures the code, not the throttles.
    env = server_env(
        database_url,
        FLEXREADY_JWT_ISSUER=ISSUER,
        FLEXREADY_JWT_HS256_SECRET=SECRET,
        FLEXREADY_JWT_RATE="100000000/min",
    )
    t0 = time.monotonic()
    manage(env, "migrate", "--no-input", "-v", "0")
    token = (
        manage(
            env,
            "shell",
            "-c",
            SETUP % {"issuer": ISSUER, "secret": SECRET, "clients": CLIENTS},
        )
        .strip()
        .splitlines()[-1]
    )
    print(f"database ready in {time.monotonic() - t0:.1f} s ({urlsplit(database_url).path[1:]})")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = serve(
        env,
        port,
        # No worker recycling: a gthread worker that reaches max_requests exits with its
        # kept-alive connections still open and a client's next request on one of them is
        # reset (gunicorn issue #3038, README "Web workers"); the bench measures the code.
        [
            *("--workers", str(WORKERS), "--threads", str(THREADS)),
            *("--worker-class", "gthread", "--max-requests", "0"),
        ],
    )
    try:
        print(
            f"gunicorn {WORKERS} workers x {THREADS} threads on {base}; "
            f"{CLIENTS} clients, {DURATION:.0f} s each side"
        )
        sides: dict[str, list[tuple[float, list[float], int, tuple[float, float, float]]]] = {
            "ping": [],
            "api": [],
        }
        meter = CpuMeter(server)
        for r in range(ROUNDS):
            first = r * 100_000
            sides["ping"].append(hammer("baseline DRF ping", ping, token, base, meter, first))
            sides["api"].append(
                hammer("create+confirm", create_and_confirm, token, base, meter, first)
            )
            print(f"  load average {os.getloadavg()[0]:.2f}")
        ping_rate = statistics.fmean(r[0] for r in sides["ping"])
        ping_lat = [x for r in sides["ping"] for x in r[1]]
        api_rate = statistics.fmean(r[0] for r in sides["api"])
        api_lat = [x for r in sides["api"] for x in r[1]]
        api_errors = sum(r[2] for r in sides["api"])
        ping_cpu, api_cpu = (
            [statistics.fmean(r[3][part] for r in sides[side]) for part in range(3)]
            for side in ("ping", "api")
        )
    finally:
        stop(server)
    print(f"baseline ping:   {ping_rate:8.0f} req/s  ({percentiles(ping_lat)})")
    print(
        f"create+confirm:  {api_rate:8.0f} req/s  = {api_rate / 2:.0f} requests created and "
        f"confirmed per second  ({percentiles(api_lat)})"
    )
    print(f"ratio operator API / baseline: {api_rate / ping_rate:.2f}")
    print(
        "CPU per request, workers / PostgreSQL / clients: ping "
        + " / ".join(f"{ms:.2f}" for ms in ping_cpu)
        + f" ms ({sum(ping_cpu):.2f}); create+confirm "
        + " / ".join(f"{ms:.2f}" for ms in api_cpu)
        + f" ms ({sum(api_cpu):.2f}); ratio of the totals {sum(ping_cpu) / sum(api_cpu):.2f}"
    )
    if api_errors:
        sys.exit(f"{api_errors} failed calls")


if __name__ == "__main__":
    main()
