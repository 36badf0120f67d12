"""TIC ingestion into PostgreSQL: simulated meters through decoder, use cases and batched writes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/tic_ingest.py \
        [--meters 2000] [--seconds 15]

Each simulated PME-PMI meter (its own port) sends one frame per simulated second. The frames
are built first (that is the meters' work, not ours), with the even-parity bit of each byte in
bit 7 as a port read 8N1 delivers them; the timed part is what ``tic_read`` does with them:
decode each port's bytes checking parity, completeness and plausibility, compute the use
cases, hand the results to the ``Ingestor``, flush every 0.5 s of wall time (series points by
COPY, events, energy per period, meter and port state). It prints the frames stored per
second, sustained over the run, against the target (2,000 meters at one frame per second), and
against a baseline measured in the same
run: a bare binary COPY of the very same point rows into an unindexed table. With ``--leases``
every port is leased first, as ``tic_read`` does, and each batch checks its leases (fencing).
With ``--restart`` a new ``Ingestor`` then takes up every meter, as a restarted ``tic_read``
does (their state and history read back from the database), on one more second of frames
handed over in the runner's chunks: its time and statements against the second after it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import queue
import threading
import time

from _django import setup, throwaway_database

setup()

from django.db import connection  # noqa: E402

TARGET = 2000
FLUSH_INTERVAL = 0.5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meters", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=8, help="simulated seconds per meter")
    parser.add_argument(
        "--state-interval", type=float, default=5.0, help="as TIC_STATE_INTERVAL_SECONDS"
    )
    parser.add_argument("--leases", action="store_true", help="lease the ports, fence each batch")
    parser.add_argument("--restart", action="store_true", help="then take every meter up again")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database: this measures COPY.")
    # Its own database: never the test database of a suite running meanwhile.
    with throwaway_database(f"test_hub_bench_tic_ingest_{os.getpid()}"):
        run(args)


def run(args: argparse.Namespace) -> None:
    from hub.models import MeteringPoint, Organisation
    from tic import ingest
    from tic.ingest import Ingestor, Received
    from tic.models import TicPort
    from tic.protocol import TicStreamDecoder, with_parity
    from tic.simulator import SimulatedPmePmi

    organisation = Organisation.objects.create(slug="bench", name="Bench")
    points = MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=organisation, kind="tic_meter", identifier=f"04{i:010d}")
        for i in range(args.meters)
    )
    ports = TicPort.objects.bulk_create(
        TicPort(organisation=organisation, name=f"port {i}", url="loop://", metering_point=p)
        for i, p in enumerate(points)
    )
    start = dt.datetime(2026, 1, 12, 8, 0, tzinfo=dt.UTC)
    meters = [SimulatedPmePmi(ads=p.identifier) for p in points]
    print(f"building {args.meters * args.seconds:,} frames of {args.meters:,} simulated meters…")
    # Second by second, every meter: the order frames reach a multi-port reader.
    wire = [
        [
            with_parity(
                m.frame(at=start + dt.timedelta(seconds=s), power_va=20_000 + (i % 7) * 3_000)
            )
            for i, m in enumerate(meters)
        ]
        for s in range(args.seconds)
    ]
    size = sum(len(frame) for second in wire for frame in second)

    stored_rows: list[tuple] = []
    real_upsert = ingest.upsert_rows

    def recording_upsert(*, rows: list) -> int:  # type: ignore[type-arg]
        stored_rows.extend(rows)
        return real_upsert(rows=rows)

    ingest.upsert_rows = recording_upsert  # type: ignore[assignment]
    ingestor = Ingestor(state_interval=args.state_interval)
    fencing = [0.0, 0]  # seconds in the leases' check, checks
    if args.leases:
        from tic import leases

        held = leases.renew_and_claim(holder="bench", capacity=len(ports), now=start)
        ingestor.lease(holder="bench", generations=held)
        real_still_held = leases.still_held

        def timed_still_held(**kwargs: object) -> set[int]:
            began_check = time.perf_counter()
            found = real_still_held(**kwargs)  # type: ignore[arg-type]
            fencing[0] += time.perf_counter() - began_check
            fencing[1] += 1
            return found

        leases.still_held = timed_still_held  # type: ignore[assignment]
    decoders = [TicStreamDecoder(parity=True) for _ in ports]
    _create_series(points, meters[0], start)
    # Warm-up outside the clock: first frames create the meters (once per meter ever).
    for port, decoder, frame in zip(ports, decoders, wire[0], strict=True):
        for decoded in decoder.feed(frame):
            ingestor.handle(Received(port.pk, decoded, start, 9600))
    ingestor.flush(now=start)
    stored_rows.clear()
    fencing[:] = [0.0, 0]

    # As in tic_read: this thread decodes and computes, one writer thread stores the batches.
    batches: queue.Queue = queue.Queue(maxsize=2)  # type: ignore[type-arg]
    in_write = [0.0]

    def writer() -> None:
        while (batch := batches.get()) is not None:
            began_writing = time.perf_counter()
            ingestor.write(batch)
            in_write[0] += time.perf_counter() - began_writing
        connection.close()

    frames = 0
    flushes = 0
    began = time.perf_counter()
    thread = threading.Thread(target=writer)
    thread.start()
    next_flush = began + FLUSH_INTERVAL
    for second, batch in enumerate(wire[1:], start=1):
        at = start + dt.timedelta(seconds=second)
        for port, decoder, frame in zip(ports, decoders, batch, strict=True):
            for decoded in decoder.feed(frame):
                ingestor.handle(Received(port.pk, decoded, at, 9600))
                frames += 1
            if time.perf_counter() >= next_flush:
                batches.put(ingestor.collect(now=at))
                flushes += 1
                next_flush = time.perf_counter() + FLUSH_INTERVAL
    # The last regular batch ends the clock; the shutdown flush (every meter's whole state at
    # once) happens once per process, not per second, and is left out of a sustained rate.
    batches.put(ingestor.collect(now=start + dt.timedelta(seconds=args.seconds)))
    batches.put(None)
    thread.join()
    in_flush = in_write[0]
    fenced_seconds, fenced_batches = fencing
    elapsed = time.perf_counter() - began
    ingestor.flush(now=start + dt.timedelta(seconds=args.seconds))
    ingest.upsert_rows = real_upsert  # type: ignore[assignment]
    rate = frames / elapsed

    baseline_seconds = _bare_copy(stored_rows)
    baseline = frames / baseline_seconds
    rows_per_frame = len(stored_rows) / frames
    print(
        f"meters {args.meters:,}, frames {frames:,} ({size / 1e6:.1f} MB on the wire), "
        f"flushes {flushes + 1}"
    )
    print(f"points {len(stored_rows):,} ({rows_per_frame:.1f} per frame)")
    print(
        f"tic ingest      {rate:10,.0f} frames/s stored end to end   ({elapsed:.1f} s; writer busy "
        f"{in_flush:.1f} s)"
    )
    if fenced_batches:
        print(
            f"leases' check   {fenced_seconds * 1000 / fenced_batches:10.1f} ms per batch "
            f"({fenced_batches} batches, {fenced_seconds / in_flush:.1%} of the writer's time)"
        )
    print(f"bare COPY       {baseline:10,.0f} frames/s (same rows, unindexed table)")
    print(
        f"ratio           {rate / baseline:10.2f}   target {TARGET:,} frames/s: "
        f"{'met' if rate >= TARGET else 'NOT met'}"
    )
    if args.restart:
        _restart(ports, meters, start + dt.timedelta(seconds=args.seconds))


def _restart(ports: list, meters: list, start: dt.datetime) -> None:  # type: ignore[type-arg]
    """A new reader's first second of frames (every meter known, restored from the database)
    against its second one, handed over in the runner's chunks; flushes are not timed."""
    from django.test.utils import CaptureQueriesContext

    from tic.ingest import Ingestor, Received
    from tic.protocol import TicStreamDecoder, with_parity
    from tic.runner import DRAIN_CHUNK

    restarted = Ingestor()
    measured = []
    for second in (0, 1):
        at = start + dt.timedelta(seconds=second)
        items = [
            Received(port.pk, decoded, at, 9600)
            for i, (port, meter) in enumerate(zip(ports, meters, strict=True))
            for decoded in TicStreamDecoder(parity=True).feed(
                with_parity(meter.frame(at=at, power_va=20_000 + (i % 7) * 3_000))
            )
        ]
        began = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            for first in range(0, len(items), DRAIN_CHUNK):
                restarted.handle_many(items[first : first + DRAIN_CHUNK])
        measured.append((time.perf_counter() - began, len(queries.captured_queries)))
        restarted.flush(now=at)
    (taken_up, statements), (following, statements_after) = measured
    print(
        f"restart         {taken_up:10.2f} s to take up {len(meters):,} known meters "
        f"({statements} statements); the next second of frames {following:.2f} s "
        f"({statements_after} statements); ratio {taken_up / following:.1f}"
    )


def _create_series(points: list, meter: object, start: dt.datetime) -> None:  # type: ignore[type-arg]
    """Every meter's series at once (what the first frames would create one by one)."""
    from hub.models import Series, SeriesKind
    from tic.protocol import TicStreamDecoder
    from tic.usecases import MeterRuntime, process

    runtime = MeterRuntime()
    measures = {}
    for second in range(60):  # long enough for the power over Td to appear
        at = start - dt.timedelta(seconds=60 - second)
        frame = meter.frame(at=at, power_va=20_000)  # type: ignore[attr-defined]
        for decoded in TicStreamDecoder().feed(frame):
            for measure in process(runtime, decoded, at=at).measures:
                measures[measure.quantity] = measure
    Series.objects.bulk_create(
        Series(
            metering_point=point,
            quantity=m.quantity,
            unit=m.unit,
            kind=SeriesKind(m.kind),
            source="tic",
        )
        for point in points
        for m in measures.values()
    )


def _bare_copy(rows: list[tuple]) -> float:  # type: ignore[type-arg]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_tic_copy "
            "(series_id bigint, ts timestamptz, value float8, quality smallint, provisional bool)"
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY bench_tic_copy (series_id, ts, value, quality, provisional) FROM STDIN "
            "(FORMAT BINARY)"
        ) as copy:
            copy.set_types(["int8", "timestamptz", "float8", "int2", "bool"])
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
