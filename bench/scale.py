"""A scale run: GRDF sync planning, Smart OA polling by three workers, TIC meters over two readers.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub REDIS_URL=redis://127.0.0.1:6379/0 \
        python bench/scale.py [--quick] [--pces N] [--contracts N] [--meters N] [--phases ...]

A throwaway database of its own (dropped at the end) and a Redis prefix of its own; each phase
prints items, seconds, items/s and where the time goes, checks its invariants and exits non-zero
when one fails:

1. ``grdf``: N PCEs (default 100,000) with Active rights for every data type; timed: what a sync
   plans before its first call (``sync.pces_with_rights`` then ``sync.plan``, the planner's own
   code), then the same again under cProfile for its top 5; not timed, not made: the calls
   themselves, whose time is set by the credential's rate (``GRDF_REQUESTS_PER_SECOND``): the
   run prints how long they take at it.
2. ``smartoa``: N contracts (default 50,000) claimed by beat's fan-out
   (``tasks.poll_due_contracts``) and polled by three real Celery workers (solo pool, queue
   ``smartoa``) against the simulator served by gunicorn (its view alone, as in
   ``smartoa_poll.py``), for ``--rounds`` rounds (the first stores a version per contract, the
   next ones find them unchanged); each round checks every contract was polled exactly once.
3. ``tic``: N meters (default 5,000) read by two real ``tic_read`` processes sharing the ports
   through their leases. 5,000 ptys exceed the kernel's default limit (``kernel.pty.max``,
   4,096), so each meter is a TCP socket (``socket://``, which the runner reads like any port,
   in its one thread waiting on every port, ``tic.multiplex``) fed by one thread here with Linky
   standard frames, one per second per meter, with their parity bits; each port must be held by
   one reader and must have counted exactly the frames its meter sent (none lost, none counted
   twice).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import math
import os
import pstats
import selectors
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# A Redis prefix of its own: no message of another run (or of a test) reaches these workers.
os.environ["HUB_TEST_REDIS_PREFIX"] = f"hub-bench-scale-{uuid.uuid4().hex[:8]}"

from _django import (
    ROOT,
    child_env,
    cpu_seconds,
    free_port,
    setup,
    silence_console_logs,
    throwaway_database,
)

setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402

PHASES = ("grdf", "smartoa", "tic")


class InvariantBroken(Exception):
    """What a phase checks did not hold."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke test")
    parser.add_argument("--pces", type=int)
    parser.add_argument("--contracts", type=int)
    parser.add_argument("--meters", type=int)
    parser.add_argument("--rounds", type=int, help="Smart OA poll rounds (default 2)")
    parser.add_argument("--frames", type=int, help="frames each TIC meter sends (default 5)")
    parser.add_argument("--phases", nargs="+", choices=PHASES, default=list(PHASES))
    args = parser.parse_args(argv)
    quick = args.quick
    args.pces = args.pces if args.pces is not None else (2_000 if quick else 100_000)
    args.contracts = args.contracts if args.contracts is not None else (600 if quick else 50_000)
    args.meters = args.meters if args.meters is not None else (20 if quick else 5_000)
    args.rounds = args.rounds or 2
    args.frames = args.frames or (3 if quick else 5)
    if connection.vendor != "postgresql":
        sys.exit("DATABASE_URL must name a PostgreSQL database (workers share it)")
    if "smartoa" in args.phases and not settings.REDIS_URL:
        sys.exit("REDIS_URL must name a Redis database (the workers' broker)")
    silence_console_logs()
    failed: list[str] = []
    with throwaway_database(f"test_hub_bench_scale_{os.getpid()}"):
        _print(f"scale run: {', '.join(args.phases)}; one phase after the other; {_load()}")
        try:
            for name in args.phases:
                try:
                    {"grdf": grdf_phase, "smartoa": smartoa_phase, "tic": tic_phase}[name](args)
                except InvariantBroken as exc:
                    failed.append(name)
                    _print(f"  INVARIANT BROKEN ({name}): {exc}")
        finally:
            if settings.REDIS_URL:
                from tests.cache import delete_prefixed

                # The workers' queues and bindings, once they have stopped.
                delete_prefixed(settings.REDIS_URL, settings.TEST_REDIS_PREFIX)
    _print("invariants: " + (f"FAILED in {', '.join(failed)}" if failed else "all held"))
    return 1 if failed else 0


# --- reporting ----------------------------------------------------------------------------


def _print(line: str) -> None:
    print(line, flush=True)


def _load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def _rate(label: str, items: int, unit: str, seconds: float) -> None:
    _print(
        f"  {label}: {items:,} {unit} in {seconds:.1f} s, "
        f"{items / max(seconds, 1e-9):,.0f} {unit}/s ({_load()})"
    )


@contextmanager
def _profiled(top: int = 5) -> Iterator[None]:
    """cProfile of the block (this thread); prints the top ``top`` functions by cumulative time
    among the project's own code and the libraries it calls."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats("cumulative")
        rows = [
            (func, entry)
            for func, entry in stats.stats.items()  # type: ignore[attr-defined]
            if "bench/" not in func[0] and func[2] not in ("<module>",) and func[0] != "~"
        ]
        rows.sort(key=lambda row: row[1][3], reverse=True)
        _print(f"  cProfile, top {top} by cumulative time:")
        for (filename, line, name), (_cc, calls, _tt, cumulative, _callers) in rows[:top]:
            where = filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
            _print(f"    {cumulative:7.2f} s  {calls:>9,} calls  {where}:{line}({name})")


def _wait_for(check: Callable[[], bool], *, seconds: float, what: str | Callable[[], str]) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            told = what() if callable(what) else what
            raise InvariantBroken(f"timed out after {seconds:.0f} s waiting for {told}")
        time.sleep(0.2)


def _stop(processes: list[subprocess.Popen[bytes]], *, grace: float = 30) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


# --- 1. GRDF: planning the sync of many PCEs -----------------------------------------------


def grdf_phase(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from grdf_access.models import AccessRight, Pce, RightState, Role
    from grdf_access.sync import pces_with_rights, plan
    from hub.clock import local_day_of
    from hub.models import MeteringPoint, MeteringPointKind, Organisation

    _print(f"\n1. GRDF: planning the sync of {args.pces:,} PCEs with rights")
    now = timezone.now()
    today = local_day_of(now)
    start = today - dt.timedelta(days=365)
    end = today + dt.timedelta(days=365)
    started = time.perf_counter()
    organisation = Organisation.objects.create(slug="scale-grdf", name="Scale GRDF")
    MeteringPoint.objects.bulk_create(
        (
            MeteringPoint(
                organisation=organisation,
                kind=MeteringPointKind.GAS_PCE,
                identifier=f"{20_000_000_000_000 + i:014d}",
            )
            for i in range(args.pces)
        ),
        batch_size=5_000,
    )
    Pce.objects.bulk_create(
        (
            Pce(organisation=organisation, metering_point_id=pk)
            for pk in MeteringPoint.objects.filter(organisation=organisation).values_list(
                "pk", flat=True
            )
        ),
        batch_size=5_000,
    )
    AccessRight.objects.bulk_create(
        (
            AccessRight(
                organisation=organisation,
                pce_id=pk,
                role=Role.AUTHORISED,
                holder_company="Scale",
                postcode="75011",
                consent_start=start,
                consent_end=end,
                data_start=start,
                data_end=end,
                published=True,
                informative_daily=True,
                informative_hourly=True,
                contractual=True,
                technical=True,
                state=RightState.ACTIVE,
            )
            for pk in Pce.objects.filter(organisation=organisation).values_list("pk", flat=True)
        ),
        batch_size=5_000,
    )
    _print(f"  setup (not timed below): {time.perf_counter() - started:.1f} s")

    started = time.perf_counter()
    pces = pces_with_rights(organisation=organisation)
    loaded = time.perf_counter() - started
    tasks = plan(pces, now=now, today=today)
    seconds = time.perf_counter() - started
    _rate(
        "planned (PCEs loaded with rights and back-offs, then planned)", len(pces), "PCEs", seconds
    )
    _print(f"  of which loading {loaded:.1f} s, planning {seconds - loaded:.1f} s")
    # Profiled apart: cProfile roughly doubles the time of the code it watches.
    with _profiled():
        plan(pces_with_rights(organisation=organisation), now=now, today=today)
    by_type = Counter(task.data_type for task in tasks)
    _print(
        f"  {len(tasks):,} calls planned: " + ", ".join(f"{t} {n:,}" for t, n in by_type.items())
    )
    rate = float(settings.GRDF_REQUESTS_PER_SECOND)
    _print(
        f"  at the credential's rate ({rate:g} call/s, shared by every worker), these calls "
        f"take {len(tasks) / rate / 3600:,.1f} h: the rate, not the planner, sets a sync's length"
    )
    if len(pces) != args.pces or {task.pce_id for task in tasks} != {p.pce.pk for p in pces}:
        raise InvariantBroken("not every PCE with a right was planned")


# --- 2. Smart OA: three workers polling the contracts --------------------------------------


def smartoa_phase(args: argparse.Namespace) -> None:
    from django.utils import timezone

    from hub.models import Organisation, PollRun
    from smartoa import simulator, tasks
    from smartoa.models import Contract, ScheduleVersion
    from smartoa.services import POLL_SOURCE
    from tests.processes import start_celery_worker

    count = args.contracts
    _print(f"\n2. Smart OA: {count:,} contracts claimed and polled by three Celery workers")
    started = time.perf_counter()
    organisation = Organisation.objects.create(slug="scale-smartoa", name="Scale Smart OA")
    Contract.objects.bulk_create(
        (
            Contract(
                organisation=organisation,
                contract_id=f"BOA-S{i:07d}",
                account_id=f"BOA-S{i:07d}",
                api_token=simulator.token_for(f"BOA-S{i:07d}"),
            )
            for i in range(count)
        ),
        batch_size=5_000,
    )
    port = free_port()
    server = _serve_simulator(port)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        base = f"http://127.0.0.1:{port}/sim/smartoa"
        _wait_for(lambda: _answers(f"{base}/effacement"), seconds=60, what="the simulator")
        env = child_env(SMARTOA_API_URL=base, SMARTOA_RESOURCE_PATH="/effacement")
        workers = [start_celery_worker(f"scale{n}", env, queues="smartoa") for n in range(3)]
        _wait_for(lambda: _workers_up(3), seconds=120, what="three workers")
        _print(f"  setup (contracts, gunicorn, workers up): {time.perf_counter() - started:.1f} s")
        for round_number in range(1, args.rounds + 1):
            if round_number > 1:  # the poll interval has passed
                Contract.objects.update(next_poll_at=timezone.now())
            before = PollRun.objects.filter(source=POLL_SOURCE).count()
            cpu_before = {p.pid: cpu_seconds(p.pid) for p in [server, *workers]}
            started = time.perf_counter()
            # As beat does, each fan-out claims at most its default limit (5,000) and commits,
            # so the first batches are polled while the next slice is claimed.
            claimed = 0
            while slice_ := tasks.poll_due_contracts.apply().get():
                claimed += slice_
            fanned_out = time.perf_counter() - started
            _wait_for(
                lambda before=before: (
                    PollRun.objects.filter(source=POLL_SOURCE).count() - before >= count
                ),
                seconds=max(120.0, count / 20),
                what=f"round {round_number}'s poll runs",
            )
            seconds = time.perf_counter() - started
            cpu = {pid: cpu_seconds(pid) - was for pid, was in cpu_before.items()}
            label = "new versions" if round_number == 1 else "unchanged"
            _rate(
                f"round {round_number} ({label}), claimed to last poll run",
                count,
                "contracts",
                seconds,
            )
            _check_round(count=count, before=before, claimed=claimed)
            worker_cpu = sum(cpu[w.pid] for w in workers)
            _print(
                "  where the time goes: fan-out (claim + enqueue, slices of 5,000) "
                f"{fanned_out:.2f} s; "
                "CPU: "
                f"3 workers {worker_cpu:.1f} s ({1000 * worker_cpu / count:.2f} ms per contract, "
                + ", ".join(f"{cpu[w.pid]:.1f}" for w in workers)
                + f"), simulator (4 gunicorn workers) {cpu[server.pid]:.1f} s; "
                f"{_batch_spread(before)}"
            )
        versions = ScheduleVersion.objects.count()
        if versions != count:
            raise InvariantBroken(f"{versions} versions stored for {count} contracts")
    finally:
        _stop(workers)
        _stop([server], grace=10)


def _serve_simulator(port: int) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    return subprocess.Popen(
        [
            str(gunicorn),
            "--workers",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--pythonpath",
            f"{ROOT},{ROOT / 'bench'}",
            "smartoa_poll:simulator_app",
        ],
        cwd=ROOT,
        env=child_env(),
    )


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.TransportError:
        return False
    return True


def _workers_up(count: int) -> bool:
    from hub.celery import app

    replies = app.control.ping(timeout=1.0) or []
    return sum(1 for reply in replies for name in reply if name.startswith("scale")) >= count


def _check_round(*, count: int, before: int, claimed: int) -> None:
    from django.db.models import Count

    from hub.models import PollOutcome, PollRun
    from smartoa.services import POLL_SOURCE

    if claimed != count:
        raise InvariantBroken(f"the fan-out claimed {claimed} contracts, not {count}")
    runs = PollRun.objects.filter(source=POLL_SOURCE).order_by("pk")[before:]
    rows = PollRun.objects.filter(pk__in=[run.pk for run in runs])
    per_contract = Counter(
        dict(rows.values("target").annotate(n=Count("pk")).values_list("target", "n"))
    )
    twice = [target for target, n in per_contract.items() if n > 1]
    if twice:
        raise InvariantBroken(f"{len(twice)} contracts polled twice in one round, e.g. {twice[0]}")
    if len(per_contract) != count:
        raise InvariantBroken(f"{count - len(per_contract)} contracts not polled in the round")
    bad = rows.exclude(outcome=PollOutcome.SUCCESS).count()
    if bad:
        raise InvariantBroken(f"{bad} polls failed")
    _print(f"  checked: {count:,} contracts polled once each, none twice, none missed")


def _batch_spread(before: int) -> str:
    """Batches (one ``now`` each) and how long the longest took, from the poll runs."""
    from django.db.models import Max, Min

    from hub.models import PollRun
    from smartoa.services import POLL_SOURCE

    last = PollRun.objects.filter(source=POLL_SOURCE).order_by("pk")[before:]
    spans = (
        PollRun.objects.filter(pk__in=[run.pk for run in last])
        .values("started_at")
        .annotate(first=Min("finished_at"), last=Max("finished_at"))
    )
    durations = [(row["last"] - row["started_at"]).total_seconds() for row in spans]
    if not durations:
        return "no batch"
    return (
        f"{len(durations)} batches, each {sum(durations) / len(durations):.1f} s on average "
        f"(longest {max(durations):.1f} s)"
    )


# --- 3. TIC: meters over two readers -------------------------------------------------------


@dataclass
class _Meter:
    adsc: str
    listener: socket.socket
    sent: int = 0
    connections: int = 0
    conn: socket.socket | None = None
    next_at: float = 0.0
    east: int = 1_000_000


@dataclass
class SocketMeters:
    """``count`` Linky standard meters, each a listening TCP socket sending ``frames`` frames,
    one per second, from the moment a reader connects (a reconnection goes on where it was)."""

    count: int
    frames: int
    meters: list[_Meter] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    first_sent_at: float | None = None
    last_sent_at: float | None = None

    def __post_init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        for n in range(self.count):
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(4)
            listener.setblocking(False)
            meter = _Meter(adsc=f"0622{n:08d}", listener=listener)
            self.meters.append(meter)
            self._selector.register(listener, selectors.EVENT_READ, meter)
        self._thread = threading.Thread(target=self._run, name="tic-meters", daemon=True)

    def url(self, meter: _Meter) -> str:
        return f"socket://127.0.0.1:{meter.listener.getsockname()[1]}"

    def progress(self) -> str:
        connected = sum(1 for meter in self.meters if meter.conn is not None)
        done = sum(1 for meter in self.meters if meter.sent >= self.frames)
        reconnected = sum(1 for meter in self.meters if meter.connections > 1)
        return f"{done} meters done, {connected} connected, {reconnected} reconnected"

    @property
    def done(self) -> bool:
        return all(meter.sent >= self.frames for meter in self.meters)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=10)
        for meter in self.meters:
            if meter.conn is not None:
                meter.conn.close()
            meter.listener.close()
        self._selector.close()

    def _run(self) -> None:
        from tic.protocol import with_parity
        from tic.simulator import linky_standard_frame

        while not self.stop.is_set():
            for key, _events in self._selector.select(timeout=0.05):
                meter = key.data
                try:
                    conn, _address = meter.listener.accept()
                except BlockingIOError:
                    continue
                if meter.conn is not None:
                    meter.conn.close()
                conn.setblocking(False)
                meter.conn, meter.connections = conn, meter.connections + 1
                # pyserial's socket:// empties the input once connected: the first frame
                # comes a second later, as from a meter already talking when the port opens.
                meter.next_at = time.monotonic() + 1.0
            clock = time.monotonic()
            for meter in self.meters:
                if meter.conn is None or meter.sent >= self.frames or meter.next_at > clock:
                    continue
                meter.east += 7
                frame = with_parity(
                    linky_standard_frame(
                        adsc=meter.adsc, at=dt.datetime.now(dt.UTC), east=meter.east
                    )
                )
                try:
                    written = meter.conn.send(frame)
                except BlockingIOError:  # the reader is behind: this second's frame is not sent
                    written = 0
                except OSError:  # the reader closed the port: it reconnects, or another does
                    meter.conn.close()
                    meter.conn = None
                    continue
                if written == len(frame):
                    meter.sent += 1
                    self.first_sent_at = self.first_sent_at or clock
                    self.last_sent_at = clock
                meter.next_at += 1.0


def tic_phase(args: argparse.Namespace) -> None:
    from django.db.models import Sum

    from hub.models import Organisation
    from tic.models import TicMeter, TicPort, TicPortLease

    count = args.meters
    _print(f"\n3. TIC: {count:,} meters over two tic_read processes, {args.frames} frames each")
    pty_max = int(Path("/proc/sys/kernel/pty/max").read_text())
    _print(
        f"  kernel.pty.max is {pty_max:,}: meters are TCP sockets (socket://) read by the "
        "runner's one thread waiting on every port, like any port URL"
    )
    started = time.perf_counter()
    meters = SocketMeters(count=count, frames=args.frames)
    organisation = Organisation.objects.create(slug="scale-tic", name="Scale TIC")
    ports = TicPort.objects.bulk_create(
        TicPort(
            organisation=organisation,
            name=f"meter {n}",
            url=meters.url(meter),
            family="linky-standard",
            baud="9600",
        )
        for n, meter in enumerate(meters.meters)
    )
    port_of = {port.pk: meters.meters[n] for n, port in enumerate(ports)}
    capacity = math.ceil(count / 2)
    readers: list[subprocess.Popen[bytes]] = []
    meters.start()
    try:
        for _ in range(2):
            readers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "tic_read",
                        "--capacity",
                        str(capacity),
                        "--reload-interval",
                        "2",
                    ],
                    cwd=ROOT,
                    env=child_env(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        cpu_before = {reader.pid: 0.0 for reader in readers}
        _wait_for(
            lambda: TicPortLease.objects.exclude(holder="").count() >= count,
            seconds=max(120.0, count / 20),
            what="every port leased",
        )
        leased = time.perf_counter() - started
        _wait_for(
            lambda: all(meter.connections for meter in meters.meters),
            seconds=max(120.0, count / 20),
            what=lambda: (
                "every meter connected ("
                + meters.progress()
                + "; reader threads: "
                + ", ".join(str(_threads(reader.pid)) for reader in readers)
                + ")"
            ),
        )
        connected = time.perf_counter() - started
        _wait_for(
            lambda: meters.done,
            seconds=60 + 3 * args.frames + count / 50,
            what=lambda: "every frame sent (" + meters.progress() + ")",
        )
        sent = sum(meter.sent for meter in meters.meters)

        def stored() -> int:
            return int(TicPort.objects.aggregate(n=Sum("valid"))["n"] or 0)

        _wait_for(
            lambda: stored() >= sent,
            seconds=max(60.0, count / 50),
            what=lambda: f"every frame stored ({stored()} of {sent})",
        )
        done = time.monotonic()
        holders = Counter(TicPortLease.objects.exclude(holder="").values_list("holder", flat=True))
        cpu = {pid: cpu_seconds(pid) - was for pid, was in cpu_before.items()}
    finally:
        _stop(readers)
        meters.close()
    first, last = meters.first_sent_at or done, meters.last_sent_at or done
    _print(
        f"  readers up, every port leased after {leased:.1f} s, every meter connected after "
        f"{connected:.1f} s (lease passes, one connection per port)"
    )
    _rate("first frame sent to every frame stored", sent, "frames", done - first)
    _print(
        f"  where the time goes: the meters' own pace ({args.frames} frames at 1/s: "
        f"{last - first:.1f} s from first to last frame sent), then {done - last:.1f} s from the "
        "last frame sent to all stored; CPU of the two readers "
        + ", ".join(f"{seconds:.1f} s" for seconds in cpu.values())
        + f" ({1000 * sum(cpu.values()) / max(sent, 1):.2f} ms per frame, start-up included)"
    )
    if sorted(holders.values()) != sorted([capacity, count - capacity]):
        raise InvariantBroken(f"the leases are not shared by two readers: {dict(holders)}")
    _check_tic(port_of=port_of)
    _print(f"  meters: {TicMeter.objects.count():,}")


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _check_tic(*, port_of: dict[int, _Meter]) -> None:
    from tic.models import TicMeter, TicPort

    wrong = []
    for port_id, frames, valid in TicPort.objects.values_list("pk", "frames", "valid"):
        meter = port_of[port_id]
        if valid != meter.sent or frames != valid or meter.connections != 1:
            wrong.append((port_id, meter.sent, valid, frames, meter.connections))
    if wrong:
        raise InvariantBroken(
            f"{len(wrong)} ports did not store each frame once "
            f"(port, sent, valid, frames, connections), e.g. {wrong[:3]}"
        )
    meters = Counter(TicMeter.objects.values_list("port_id", flat=True))
    if len(meters) != len(port_of) or any(n != 1 for n in meters.values()):
        raise InvariantBroken("a port without its one meter, or with several")
    _print(
        f"  checked: {len(port_of):,} ports each read by one reader over one connection, "
        "every frame sent counted once"
    )


if __name__ == "__main__":
    sys.exit(main())
