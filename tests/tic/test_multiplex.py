"""Many pty meters read by one ``Multiplexer`` thread: every frame once, failures kept apart.

Each meter owns the master side of a pty and publishes its slave under a fixed path, as a USB
serial adapter would; it writes once the reader has the port open (pyserial empties the input
when it opens a device), which the test's opener signals. Waits are on events, with a timeout
that only turns a hang into a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tic.ingest import LineCounts, PortStatus, Received
from tic.multiplex import Multiplexer, multiplexed, open_port
from tic.protocol import with_parity
from tic.reader import PortReader, SerialLike, Timing
from tic.simulator import linky_standard_frame

AT = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
FAST = Timing(silence=30.0, backoff_start=0.01, backoff_max=0.05)
PORTS = 50
FRAMES = 4
WAIT = 60.0  # seconds: a reader that never gets there fails the test instead of hanging it


def frame(port: int, index: int) -> bytes:
    # A Linky standard frame as a 7E1 line shows it opened 8N1 (54E §5.3.5, 02E §1.5.1).
    adsc = f"0619613{port:05d}"
    return with_parity(linky_standard_frame(adsc=adsc, at=AT, east=1000 * port + index))


class PtyMeter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.master = self.slave = -1
        self.opened = threading.Event()

    def plug(self) -> None:
        self.opened.clear()
        self.master, self.slave = os.openpty()
        fresh = self.path.with_suffix(".new")
        fresh.symlink_to(os.ttyname(self.slave))
        fresh.replace(self.path)

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)

    def send(self, data: bytes) -> None:
        assert self.opened.wait(WAIT), f"{self.path} never opened"
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]


class Sink:
    """What the readers hand over, and an event once ``expected`` says it is all there."""

    def __init__(self) -> None:
        self.items: list[Received | PortStatus | LineCounts] = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected: Callable[[list[Received | PortStatus | LineCounts]], bool] = lambda _: False

    def __call__(self, item: Received | PortStatus | LineCounts) -> None:
        with self.lock:
            self.items.append(item)
            if self.expected(self.items):
                self.done.set()

    def wait_for(self, check: Callable[[list[Received | PortStatus | LineCounts]], bool]) -> bool:
        with self.lock:
            self.expected = check
            self.done.clear()
            if check(self.items):
                return True
        return self.done.wait(WAIT)

    def valid_east(self, port: int) -> list[int]:
        return [
            int(item.frame.groups["EAST"].raw)
            for item in self.items
            if isinstance(item, Received) and item.port_id == port and item.frame.valid
        ]


def valid_counts(items: list[Received | PortStatus | LineCounts]) -> Counter[int]:
    return Counter(i.port_id for i in items if isinstance(i, Received) and i.frame.valid)


class FedReader(PortReader):
    """A reader that tells how many bytes it has decoded: what a pty holds is handed over
    asynchronously, so a test waits on this before cutting the line."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fed = 0
        self.changed = threading.Condition()

    def feed(self, chunk: bytes) -> None:
        super().feed(chunk)
        with self.changed:
            self.fed += len(chunk)
            self.changed.notify_all()

    def wait_fed(self, count: int) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: self.fed >= count, WAIT)


def serve(
    tmp_path: Path, count: int, sink: Sink, *, reader: Callable[..., PortReader] = PortReader
) -> tuple[Multiplexer, list[PtyMeter]]:
    meters = [PtyMeter(tmp_path / f"tic{port}") for port in range(count)]
    for meter in meters:
        meter.plug()

    def opener(meter: PtyMeter):  # type: ignore[no-untyped-def]
        def open_(url: str, baud: int) -> SerialLike:
            link = open_port(url, baud)
            meter.opened.set()
            return link

        return open_

    multiplexer = Multiplexer(timing=FAST)
    for port, meter in enumerate(meters):
        multiplexer.add(
            reader(
                port_id=port, url=str(meter.path), family="linky-standard", baud=9600,
                opener=opener(meter), sink=sink, stop=threading.Event(), timing=FAST,
            )
        )  # fmt: skip
    return multiplexer, meters


def test_one_thread_decodes_every_frame_of_fifty_ports_once(tmp_path: Path) -> None:
    """The runner's promise for each port, whichever thread reads it: every frame the meter
    sends is handed over once, in order, at the port's rate."""
    sink = Sink()
    before = set(threading.enumerate())
    multiplexer, meters = serve(tmp_path, PORTS, sink)
    try:
        for index in range(FRAMES):
            for port, meter in enumerate(meters):
                meter.send(frame(port, index))
        assert sink.wait_for(lambda items: sum(valid_counts(items).values()) >= PORTS * FRAMES)
        # One reading thread, beside the few that open ports: no thread per port.
        started = [t.name for t in threading.enumerate() if t not in before]
        assert [name for name in started if not name.startswith("tic-ports-open")] == ["tic-ports"]
        assert len(started) <= 1 + 4
    finally:
        multiplexer.close()
        for meter in meters:
            meter.unplug()
    for port in range(PORTS):
        assert sink.valid_east(port) == [1000 * port + i for i in range(FRAMES)]
    invalid = [i for i in sink.items if isinstance(i, Received) and not i.frame.valid]
    assert invalid == []
    stopped = {i.port_id for i in sink.items if isinstance(i, PortStatus) and i.state == "stopped"}
    assert stopped == set(range(PORTS))


def test_a_port_closed_mid_stream_is_reopened_and_the_others_go_on(tmp_path: Path) -> None:
    """tic/reader.py: « A port that fails (device unplugged, bridge closed the connection) is
    closed, reported ``down`` and reopened with exponential backoff; the frame cut by the
    failure is reported as interrupted, nothing else is lost »."""
    sink = Sink()
    readers: dict[int, FedReader] = {}

    def reader(**kwargs: Any) -> FedReader:
        return readers.setdefault(kwargs["port_id"], FedReader(**kwargs))

    multiplexer, meters = serve(tmp_path, 5, sink, reader=reader)
    try:
        for port, meter in enumerate(meters):
            meter.send(frame(port, 0))
        assert sink.wait_for(lambda items: sum(valid_counts(items).values()) >= 5)
        # Port 0 is unplugged in the middle of its second frame, once the reader has decoded
        # the half sent; the adapter comes back.
        half = frame(0, 1)
        meters[0].send(half[: len(half) // 2])
        assert readers[0].wait_fed(len(frame(0, 0)) + len(half) // 2)
        meters[0].unplug()
        assert sink.wait_for(
            lambda items: any(
                isinstance(i, PortStatus) and i.port_id == 0 and i.state == "down" for i in items
            )
        )
        meters[0].plug()
        for index in (2, 3):
            for port, meter in enumerate(meters):
                meter.send(frame(port, index))
        assert sink.wait_for(lambda items: sum(valid_counts(items).values()) >= 15)
    finally:
        multiplexer.close()
        for meter in meters:
            meter.unplug()
    assert sink.valid_east(0) == [0, 2, 3]
    # The half frame is handed over once, as interrupted (the reader's ``cut``: counted with
    # the port's bad frames, never decoded as a good one); nothing else is invalid.
    cut = [i for i in sink.items if isinstance(i, Received) and not i.frame.valid]
    assert [(i.port_id, i.frame.interrupted) for i in cut] == [(0, True)]
    assert b"061961300000" in cut[0].frame.raw  # port 0's second frame, its first half
    for port in range(1, 5):
        assert sink.valid_east(port) == [1000 * port + i for i in (0, 2, 3)]
    states = [i.state for i in sink.items if isinstance(i, PortStatus) and i.port_id == 0]
    assert states.index("down") < len(states) - 1 - states[::-1].index("reading")


def test_one_ports_garbage_does_not_reach_the_others(tmp_path: Path) -> None:
    """Integrity (tic/README.md): bytes outside frames are counted as the port's
    ``noise_bytes``; no other port's frames or counts change."""
    sink = Sink()
    multiplexer, meters = serve(tmp_path, 10, sink)
    garbage = bytes((b * 37 + 11) & 0x7F for b in range(1, 20_000)).replace(b"\x02", b"")
    try:
        for index in range(FRAMES):
            meters[0].send(garbage)
            for port, meter in enumerate(meters[1:], start=1):
                meter.send(frame(port, index))
        assert sink.wait_for(lambda items: sum(valid_counts(items).values()) >= 9 * FRAMES)
    finally:
        multiplexer.close()
        for meter in meters:
            meter.unplug()
    assert sink.valid_east(0) == []
    for port in range(1, 10):
        assert sink.valid_east(port) == [1000 * port + i for i in range(FRAMES)]
    noise = Counter[int]()
    for item in sink.items:
        if isinstance(item, LineCounts):
            noise[item.port_id] += item.noise_bytes
    assert set(noise) == {0} and noise[0] > 0


def test_which_ports_the_one_thread_serves() -> None:
    """tic/README.md « One thread for many ports »: devices and ``socket://`` bridges share the
    thread; ``rfc2217://`` (pyserial reads it in a thread of its own), ``loop://`` and other
    pyserial URLs keep a thread each."""
    assert multiplexed("/dev/ttyUSB0") and multiplexed("socket://10.0.0.5:4001")
    assert not multiplexed("rfc2217://10.0.0.5:2217") and not multiplexed("loop://")
