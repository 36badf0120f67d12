"""Polling Smart OA contracts: the hub's poll path against a bare httpx loop, same server, same run.

    python bench/smartoa_poll.py [--contracts N] [--workers W]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/smartoa_poll.py

Serves the hub (and so the Smart OA simulator) with gunicorn on a free loopback port, creates N
contracts (default 10,000) in a fresh test database, then, in this one process and one thread:

* bare: ``httpx.Client.get`` + ``.json()`` per contract with its token, nothing else;
* hub: ``smartoa.services.poll_contract`` per contract: auth, retry and logging transports,
  validation of the answer, a poll run, a new schedule version with its stop episodes and an
  audit event, all written to the database.

Prints contracts/s for both and the ratio hub / bare. The hub's log lines are produced (their
cost is real) but sent to /dev/null.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from _django import ROOT, setup

setup()

import httpx  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    args = parser.parse_args()
    _silence_console_logs()
    setup_test_environment()
    if connection.vendor == "postgresql":
        # Its own database: never clobber the test database of a suite running meanwhile.
        connection.settings_dict["TEST"]["NAME"] = "test_hub_bench_smartoa"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    port = _free_port()
    server = _serve(port, args.workers)
    try:
        _wait_until_up(port)
        run(args, base_url=f"http://127.0.0.1:{port}/sim/smartoa")
    finally:
        server.terminate()
        server.wait(timeout=10)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace, *, base_url: str) -> None:
    from django.utils import timezone

    from hub.models import Organisation
    from smartoa import services, simulator
    from smartoa.client import SmartOAClient
    from smartoa.models import Contract

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    Contract.objects.bulk_create(
        Contract(
            organisation=organisation,
            contract_id=f"BOA-{i:06d}",
            account_id=f"BOA-{i:06d}",
            api_token=simulator.token_for(f"BOA-{i:06d}"),
        )
        for i in range(args.contracts)
    )
    contracts = list(Contract.objects.select_related("organisation").order_by("pk"))
    credentials = [(c.contract_id, c.api_token) for c in contracts]
    print(f"{len(contracts)} contracts, simulator at {base_url} ({args.workers} gunicorn workers)")

    with httpx.Client(base_url=base_url, timeout=30) as bare:
        started = time.perf_counter()
        for _contract_id, token in credentials:
            response = bare.get("/effacement", headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            response.json()
        bare_seconds = time.perf_counter() - started

    with SmartOAClient(base_url=base_url, resource_path="/effacement") as client:
        started = time.perf_counter()
        outcomes: dict[str, int] = {}
        for contract in contracts:
            result = services.poll_contract(contract=contract, now=timezone.now(), client=client)
            outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        hub_seconds = time.perf_counter() - started

    bare_rate = len(contracts) / bare_seconds
    hub_rate = len(contracts) / hub_seconds
    print(f"database: {connection.vendor}; hub outcomes: {outcomes}")
    print(f"bare httpx loop : {bare_rate:8.1f} contracts/s ({bare_seconds:.1f} s)")
    print(f"hub poll path   : {hub_rate:8.1f} contracts/s ({hub_seconds:.1f} s)")
    print(f"ratio hub / bare: {hub_rate / bare_rate:.2f}")


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
    # The same settings module as this process: the same SECRET_KEY, so the same tokens.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
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
        env=env,
    )


def _wait_until_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/sim/smartoa/effacement", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


if __name__ == "__main__":
    main()
