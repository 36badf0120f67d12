"""Throughput of the TIC decoder on the real captures, against a naive split-only parser.

Run from the repository root: ``python bench/tic_decode.py``. ``TIC_FIXTURES`` points at the
captures (default ``tests/fixtures/tic``). Each capture is repeated
until one decoder pass takes about 0.5 s, the best of three passes is kept (1-2 s of work per
capture with the baseline). The decoder is fed in 4 KiB chunks, as from a serial port, with
parity checking on: the captures get their even-parity bit in bit 7, as ``tic_read`` reads a
line 8N1. The baseline splits the 7-bit bytes on STX/ETX, LF and the separator and checks
nothing: no checksum, no parity, no typing, no interruption handling, no completeness.

The decoder remembers the groups it has checked (by their bytes) and builds a frame made of
known groups from them: a repeated capture is its best case. Two more rows bound it: the
captures decoded with that memory off (every group checked and typed each time, as before),
and a simulated stream whose values all change every second (PME-PMI and Linky standard, DATE
and indexes new in each frame), the steady case of a real line.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import datetime as dt  # noqa: E402

from tic.protocol import TicStreamDecoder, with_parity  # noqa: E402 - needs the path set above
from tic.simulator import SimulatedPmePmi, linky_standard_frame  # noqa: E402

TARGET_SECONDS = float(os.environ.get("TIC_BENCH_SECONDS", "0.5"))
CHUNK = 4096
PASSES = 5


def fixtures_dir() -> Path:
    return Path(os.environ.get("TIC_FIXTURES", REPO / "tests" / "fixtures" / "tic"))


REMEMBER = True


def decode(data: bytes) -> int:
    decoder = TicStreamDecoder(parity=True, remember=REMEMBER)
    frames = 0
    for start in range(0, len(data), CHUNK):
        frames += len(decoder.feed(data[start : start + CHUNK]))
    return frames


def naive(data: bytes) -> int:
    frames = 0
    for chunk in data.split(b"\x02")[1:]:
        body, end, _ = chunk.partition(b"\x03")
        if not end:
            continue
        groups: dict[bytes, list[bytes]] = {}
        for line in body.split(b"\n"):
            line = line.rstrip(b"\r")
            if line:
                fields = line.split(b"\t") if b"\t" in line else line.split(b" ")
                groups[fields[0]] = fields[1:-1]
        frames += 1
    return frames


def measure(parse: Callable[[bytes], int], data: bytes) -> tuple[int, float]:
    """Frames found and best wall time over a few passes."""
    best = float("inf")
    frames = 0
    for _ in range(PASSES):
        started = time.perf_counter()
        frames = parse(data)
        best = min(best, time.perf_counter() - started)
    return frames, best


def compare(decoded: bytes, plain: bytes) -> tuple[int, float, int, float]:
    """Decoder and naive passes taken in turn, best of each: on a shared machine the load
    then weighs on both alike, which two separate series of passes do not ensure."""
    best = [float("inf"), float("inf")]
    frames = [0, 0]
    for _ in range(PASSES):
        for index, (parse, data) in enumerate(((decode, decoded), (naive, plain))):
            started = time.perf_counter()
            frames[index] = parse(data)
            best[index] = min(best[index], time.perf_counter() - started)
    return frames[0], best[0], frames[1], best[1]


def repeated(raw: bytes) -> bytes:
    """``raw`` repeated so that one decoder pass lasts about TARGET_SECONDS."""
    probe = with_parity(raw * max(1, 200_000 // len(raw)))
    _, seconds = measure(decode, probe)
    times = max(1, round(TARGET_SECONDS / seconds * len(probe) / len(raw)))
    return raw * times


def rates(frames: int, size: int, seconds: float) -> str:
    return f"{frames / seconds:10,.0f} frames/s {size / seconds / 1e6:7.2f} MB/s"


def changing_streams(frames: int = 2_000) -> list[tuple[str, bytes]]:
    """One line per meter, frames one second apart whose DATE, indexes and powers change."""
    start = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
    pmepmi = SimulatedPmePmi(ads="041436028024")
    seconds = [start + dt.timedelta(seconds=n) for n in range(frames)]
    return [
        (
            "PME-PMI, values changing (sim.)",
            b"".join(
                pmepmi.frame(at=at, power_va=30_000 + (n * 7919) % 20_000)
                for n, at in enumerate(seconds)
            ),
        ),
        (
            "Linky std, values changing (sim.)",
            b"".join(
                linky_standard_frame(adsc="061961361253", at=at, east=10**7 + 3 * n)
                for n, at in enumerate(seconds)
            ),
        ),
    ]


def row(name: str, data: bytes) -> tuple[int, float, int, float]:
    frames, seconds, naive_frames, naive_seconds = compare(with_parity(data), data)
    print(
        f"{name:34} {rates(frames, len(data), seconds)}   "
        f"{rates(naive_frames, len(data), naive_seconds)}   {seconds / naive_seconds:5.2f}x"
    )
    return frames, seconds, naive_frames, naive_seconds


def main() -> int:
    global REMEMBER
    directory = fixtures_dir()
    paths = sorted(p for p in directory.glob("*") if p.suffix in {".bin", ".txt"})
    if not paths:
        print(f"no captures in {directory} (set TIC_FIXTURES)", file=sys.stderr)
        return 1
    print(f"captures: {directory}")
    print(f"{'capture':34} {'decoder':>33}   {'naive split':>33}   ratio")
    size = frames_total = naive_total = 0
    seconds_total = naive_seconds_total = 0.0
    captures = [(path.name, repeated(path.read_bytes())) for path in paths]
    for name, data in captures:
        frames, seconds, naive_frames, naive_seconds = row(name, data)
        size += len(data)
        frames_total += frames
        seconds_total += seconds
        naive_total += naive_frames
        naive_seconds_total += naive_seconds
    print(
        f"{'all captures':34} {rates(frames_total, size, seconds_total)}   "
        f"{rates(naive_total, size, naive_seconds_total)}   "
        f"{seconds_total / naive_seconds_total:5.2f}x"
    )
    changing = changing_streams()
    for name, data in changing:
        row(name, data)
    REMEMBER = False
    memory_off = [0.0, 0.0]
    for _name, data in captures:
        _, seconds, _, naive_seconds = compare(with_parity(data), data)
        memory_off[0] += seconds
        memory_off[1] += naive_seconds
    ratio = memory_off[0] / memory_off[1]
    print(f"{'all captures, memory off':34} {'':>33}   {'':>33}   {ratio:5.2f}x")
    for name, data in changing:
        row(f"{name.split(',')[0]}, memory off", data)
    REMEMBER = True
    print("ratio = decoder time / naive time (the naive parser checks and types nothing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
