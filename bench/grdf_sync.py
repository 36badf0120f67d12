"""Syncing GRDF daily informative data: the hub's sync against a bare fetch loop, same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/grdf_sync.py \
        [--pces N] [--days D] [--threads T] [--workers W]

Serves the hub (and so the GRDF simulator) with gunicorn on a free loopback port, creates N PCEs
(default 10,000) with Active rights, both in a fresh test database and at the simulator, then:

* bare: T threads sharing one ``httpx.Client`` GET each PCE's ``donnees_consos_informatives``
  for the last D gas days (default 30) with a bearer token and parse the NDJSON; nothing else;
* hub: ``grdf_access.sync.sync_data`` for the organisation: the consent plan of every PCE, the
  ADICT client (OAuth2, retries, logging, rate limiter set high, typed records), the same T
  threads, quality checks, and every point written in one series batch (COPY on PostgreSQL).

Prints PCEs/s and points stored/s for both and the ratio hub / bare (target ≥ 0.5). The hub's
log lines are produced (their cost is real) but sent to /dev/null.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _django import ROOT, setup

setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pces", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--threads", type=int, default=8, help="concurrent calls, both loops")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    args = parser.parse_args()
    _silence_console_logs()
    setup_test_environment()
    if connection.vendor == "postgresql":
        # Its own database: never clobber the test database of a suite running meanwhile.
        connection.settings_dict["TEST"]["NAME"] = "test_hub_bench_grdf"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    port = _free_port()
    server = _serve(port, args.workers)
    try:
        _wait_until_up(port)
        run(args, root=f"http://127.0.0.1:{port}/sim/grdf")
    finally:
        server.terminate()
        server.wait(timeout=10)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace, *, root: str) -> None:
    from django.utils import timezone

    from grdf_access import simulator
    from grdf_access.adict_gateway import AdictGateway
    from grdf_access.client import AdictClient, RateLimiter
    from grdf_access.models import AccessRight, Pce, RightState, Role
    from grdf_access.sync import sync_data
    from hub.clock import local_day_of
    from hub.models import MeteringPoint, MeteringPointKind, Organisation, Point

    now = timezone.now()
    today = local_day_of(now)
    start = today - dt.timedelta(days=args.days)
    consent_end = today + dt.timedelta(days=365)
    identifiers = [f"{10_000_000_000_000 + i:014d}" for i in range(args.pces)]

    simulator.reset()
    simulator.seed_rights(
        client_id=settings.GRDF_CLIENT_ID,
        pces=identifiers,
        data_start=start,
        data_end=consent_end,
        consent_start=start,
        consent_end=consent_end,
        types=("informatives",),
    )
    organisation = Organisation.objects.create(slug="bench", name="Bench")
    MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=organisation, kind=MeteringPointKind.GAS_PCE, identifier=i)
        for i in identifiers
    )
    points = MeteringPoint.objects.filter(organisation=organisation)
    Pce.objects.bulk_create(Pce(organisation=organisation, metering_point=p) for p in points)
    AccessRight.objects.bulk_create(
        AccessRight(
            organisation=organisation,
            pce=pce,
            role=Role.AUTHORISED,
            holder_company="Bench",
            postcode="75011",
            consent_start=start,
            consent_end=consent_end,
            data_start=start,
            data_end=consent_end,
            informative_daily=True,
            state=RightState.ACTIVE,
        )
        for pce in Pce.objects.filter(organisation=organisation)
    )
    print(
        f"{args.pces} PCEs x {args.days} gas days, simulator at {root} "
        f"({args.workers} gunicorn workers), {args.threads} threads, database {connection.vendor}"
    )

    # Bare: the same calls, the same threads, parsing only.
    token = simulator.token_for(settings.GRDF_CLIENT_ID)
    params = {"date_debut": start.isoformat(), "date_fin": today.isoformat()}
    with httpx.Client(
        base_url=f"{root}/adict/v2",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
        limits=httpx.Limits(max_connections=args.threads),
    ) as bare:

        def fetch(pce: str) -> int:
            response = bare.get(f"/pce/{pce}/donnees_consos_informatives", params=params)
            response.raise_for_status()
            lines = [json.loads(line) for line in response.text.splitlines() if line.strip()]
            return sum(1 for line in lines if "consommation" in line)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            records = sum(pool.map(fetch, identifiers))
        bare_seconds = time.perf_counter() - started
    bare_pces = args.pces / bare_seconds
    # Each record holds an energy, a volume and an index: the points the hub stores for it.
    bare_points = 3 * records / bare_seconds
    print(
        f"bare fetch loop : {bare_pces:8.1f} PCEs/s, {bare_points:9.0f} points/s "
        f"({records} records, {bare_seconds:.1f} s)"
    )

    client = AdictClient(
        base_url=f"{root}/adict/v2",
        token_url=f"{root}/oauth2/token",
        rate_limiter=RateLimiter(1_000_000, burst=1_000_000),
    )
    with AdictGateway(client) as gateway:
        started = time.perf_counter()
        report = sync_data(
            organisation=organisation,
            gateway=gateway,
            now=now,
            today=today,
            types={"informatives_journalieres"},
            force=True,
            workers=args.threads,
        )
        seconds = time.perf_counter() - started
    stored = Point.objects.filter(series__metering_point__organisation=organisation).count()
    hub_pces = args.pces / seconds
    hub_points = report.points / seconds
    print(
        f"hub sync        : {hub_pces:8.1f} PCEs/s, {hub_points:9.0f} points/s "
        f"({report.points} points stored, {stored} in the table, {report.failed} failed calls, "
        f"{len(report.warnings)} warnings, {seconds:.1f} s)"
    )
    print(f"ratio hub / bare: {hub_pces / bare_pces:.2f} (PCEs/s), target >= 0.5")
    outside = simulator.counters()["outside_consent"]
    print(f"requests outside consent counted by the simulator: {outside}")


def _silence_console_logs() -> None:
    sink = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sink)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(port: int, workers: int) -> subprocess.Popen[bytes]:
    # The same settings and environment as this process: the same SECRET_KEY (tokens) and the
    # same cache (the simulator's state).
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "hub.wsgi:application",
        ],
        cwd=ROOT,
        env=dict(os.environ),
    )


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
            return
        except httpx.TransportError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
