"""Polling Smart OA contracts: the hub's poll path against a bare httpx loop, same server, same run.

    python bench/smartoa_poll.py [--contracts N] [--workers W] [--threads T] [--batch B]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/smartoa_poll.py

Serves the Smart OA simulator with gunicorn on a free loopback port (its view alone, see
``simulator_app``; ``--full-stack``: through the whole hub WSGI app), creates N contracts
(default 10,000) in a fresh test database, then, in this one process:

* bare: ``httpx.Client.get`` + ``.json()`` per contract with its token, one after the other,
  nothing else;
* threads: the same calls as the bare loop on the hub's ``--threads`` threads sharing one
  client, nothing else: what the thread pool alone costs (a second baseline, printed beside
  the first; the target is against the bare loop);
* hub: what a beat-driven poll task runs (``smartoa.polling.poll_contracts``): the contracts
  loaded (tokens decrypted), the calls on a thread pool through the hub's client (auth, retry
  and logging transports), every answer validated, then written in batches: one poll run per
  contract, new versions with their stop episodes and audit events. Twice: a first pass where
  every contract has a new version, then the steady state where the update date is unchanged.

The sides take turns chunk by chunk (``--chunk``, default 1,000 contracts; the side that
goes first rotates too), so that all three see the same machine: on a shared 2-core host the speed
of one side measured alone drifts by a third from one minute to the next. A chunk is what a few
poll tasks hold (``SMARTOA_POLL_BATCH`` contracts each). Prints contracts/s for each side over
the whole run, the ratio hub / bare, and the spread of the chunks' ratios. The hub's log lines
are produced (their cost is real) but sent to /dev/null.
"""

from __future__ import annotations

import argparse
import os
import queue
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path
from typing import Any

from _django import ROOT, free_port, setup, silence_console_logs

setup()

import httpx  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contracts", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=16, help="hub poll threads")
    parser.add_argument("--batch", type=int, default=200, help="contracts per write batch")
    parser.add_argument("--chunk", type=int, default=1000, help="contracts per turn of each side")
    parser.add_argument(
        "--full-stack", action="store_true", help="serve the simulator through hub.wsgi"
    )
    args = parser.parse_args()
    silence_console_logs()
    setup_test_environment()
    if connection.vendor == "postgresql":
        # Its own database, named after DATABASE_URL's: never clobber the test database of a
        # suite, or of this bench run against another database, running meanwhile.
        connection.settings_dict["TEST"]["NAME"] = (
            f"test_{connection.settings_dict['NAME']}_bench_smartoa"
        )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    port = free_port()
    server = _serve(port, args.workers, full_stack=args.full_stack)
    try:
        _wait_until_up(port)
        run(args, base_url=f"http://127.0.0.1:{port}/sim/smartoa")
    finally:
        server.terminate()
        server.wait(timeout=10)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace, *, base_url: str) -> None:
    from hub.models import Organisation, PollRun
    from smartoa import simulator
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
    keys = list(Contract.objects.order_by("pk").values_list("pk", flat=True))
    credentials = [c.api_token for c in Contract.objects.order_by("pk")]
    print(
        f"{len(credentials)} contracts, simulator at {base_url} ({args.workers} gunicorn "
        f"workers); hub: {args.threads} threads, batches of {args.batch}"
    )

    chunks = [
        (keys[at : at + args.chunk], credentials[at : at + args.chunk])
        for at in range(0, len(keys), max(args.chunk, 1))
    ]
    print(f"database: {connection.vendor}; load average {os.getloadavg()[0]:.1f}")
    # As a worker does when it starts (hub.celery.warm_up): the URLconf is loaded once per
    # process, not inside the first poll.
    from hub.celery import warm_up

    warm_up()
    with (
        httpx.Client(base_url=base_url, timeout=30) as bare,
        SmartOAClient(base_url=base_url, resource_path="/effacement") as client,
    ):
        for label in ("new versions", "unchanged   "):
            sides = {"bare": _Side(), "threads": _Side(), "hub": _Side()}
            statements = _Counter()
            outcomes: dict[str, int] = {}
            ratios = []
            for number, (chunk, tokens) in enumerate(chunks):
                turns = [
                    ("bare", partial(_bare_loop, bare, tokens)),
                    ("threads", partial(_bare_threads, bare, tokens, threads=args.threads)),
                    (
                        "hub",
                        partial(
                            _hub_poll, args, client, chunk, statements=statements, outcomes=outcomes
                        ),
                    ),
                ]
                seconds = {
                    name: sides[name].time(turn, count=len(chunk))
                    for name, turn in turns[number % 3 :] + turns[: number % 3]
                }
                ratios.append(seconds["bare"] / seconds["hub"])
            bare_side_total, hub_total = sides["bare"], sides["hub"]
            print(
                f"{label}: bare httpx loop {bare_side_total.rate:7.1f} contracts/s "
                f"({bare_side_total.cpu_ms:.2f} ms CPU per contract), hub "
                f"{hub_total.rate:7.1f} contracts/s ({hub_total.seconds:.1f} s, "
                f"{hub_total.cpu_ms:.2f} ms CPU per contract): ratio hub / bare "
                f"{hub_total.rate / bare_side_total.rate:.2f} (chunks {min(ratios):.2f}"
                f" to {max(ratios):.2f}); {outcomes}; "
                f"{statements.count / max(hub_total.count, 1):.3f} SQL statements per "
                f"contract; load {os.getloadavg()[0]:.1f}"
            )
            threads = sides["threads"]
            print(
                f"    the bare loop's calls on {args.threads} threads, nothing else: "
                f"{threads.rate:7.1f} contracts/s ({threads.cpu_ms:.2f} ms CPU per contract); "
                f"hub / that {hub_total.rate / threads.rate:.2f}"
            )
    print(f"poll runs: {PollRun.objects.count()}")


def _bare_loop(bare: httpx.Client, tokens: list[str]) -> None:
    for token in tokens:
        response = bare.get("/effacement", headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        response.json()


def _bare_threads(bare: httpx.Client, tokens: list[str], *, threads: int) -> None:
    """The bare loop's calls on ``threads`` threads draining one queue, as the hub's pool does
    (``smartoa.polling._fetch_all``), with no validation, logging or writes."""
    jobs: queue.SimpleQueue[str | None] = queue.SimpleQueue()
    for token in tokens:
        jobs.put(token)
    count = min(max(threads, 1), len(tokens))
    for _ in range(count):
        jobs.put(None)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            while (token := jobs.get()) is not None:
                _bare_loop(bare, [token])
        except BaseException as exc:  # re-raised in the caller's thread
            failures.append(exc)

    workers = [threading.Thread(target=work) for _ in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise failures[0]


def _hub_poll(
    args: argparse.Namespace,
    client: Any,
    keys: list[int],
    *,
    statements: _Counter,
    outcomes: dict[str, int],
) -> None:
    """What ``smartoa.tasks.poll_contracts`` runs: the contracts loaded, then polled."""
    from django.utils import timezone

    from smartoa import polling
    from smartoa.models import Contract

    with connection.execute_wrapper(statements):
        contracts = Contract.objects.select_related("organisation").filter(pk__in=keys)
        results = polling.poll_contracts(
            contracts=list(contracts.order_by("pk")),
            now=timezone.now(),
            client=client,
            threads=args.threads,
            batch_size=args.batch,
        )
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1


class _Side:
    """One side's wall and CPU time, summed over its turns."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu = 0.0
        self.count = 0

    def time(self, run: Any, *, count: int) -> float:
        started, cpu = time.perf_counter(), time.process_time()
        run()
        seconds = time.perf_counter() - started
        self.seconds += seconds
        # CPU time of this process (every thread): less sensitive than wall time to a shared
        # machine.
        self.cpu += time.process_time() - cpu
        self.count += count
        return seconds

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / max(self.count, 1)


class _Counter:
    """Counts the SQL statements this process sends (a connection execute wrapper)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        self.count += 1
        return execute(sql, params, many, context)


def simulator_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The simulator's view alone, as a WSGI app: the same code (tokens, IP allow-list, the
    scripted day) without the hub's URL resolution and middleware, which are the fake upstream's
    cost, not the poller's (``--full-stack`` serves ``hub.wsgi`` instead)."""
    from django.core.handlers.wsgi import WSGIRequest

    from smartoa import simulator

    response = simulator.effacement(WSGIRequest(environ))
    start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
    return [response.content]


def _serve(port: int, workers: int, *, full_stack: bool) -> subprocess.Popen[bytes]:
    # The same settings module as this process: the same SECRET_KEY, so the same tokens.
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ["DJANGO_SETTINGS_MODULE"]}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    app = "hub.wsgi:application" if full_stack else "smartoa_poll:simulator_app"
    return subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            app,
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
