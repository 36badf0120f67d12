"""Reading a port without hardware: a fake line for probing, failures and reopening."""

from __future__ import annotations

import datetime as dt
import threading
import time

import serial

from tic.ingest import LineCounts, PortStatus, Received
from tic.protocol import with_parity
from tic.reader import RATES, PortReader, Timing
from tic.simulator import SimulatedPmePmi, linky_standard_frame

AT = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
# What a port opened 8N1 reads from a 7E1 meter: the parity bit in bit 7 (02E §1.5.1).
LINKY = with_parity(linky_standard_frame(adsc="061961361253", at=AT, east=5))
PME = with_parity(SimulatedPmePmi(ads="041436028024").frame(at=AT, power_va=0))
FAST = Timing(silence=0.3, probe_window=lambda _rate: 0.05, backoff_start=0.01, backoff_max=0.04)


class FakeLine:
    """Frames arrive intact only when the reader's rate is the meter's; noise otherwise."""

    def __init__(
        self, meter_rate: int, baud: int, *, frames: int | None = None, payload: bytes = LINKY
    ) -> None:
        self.payload = payload
        self.meter_rate = meter_rate
        self.baudrate = baud
        self.frames_left = frames
        self.closed = False

    def read(self, size: int = 1) -> bytes:
        time.sleep(0.001)  # a line delivers bytes over time, even a fast one
        if self.frames_left == 0:
            raise serial.SerialException("device disconnected")
        if self.baudrate != self.meter_rate:
            return bytes((b * 37 + 11) & 0xFF for b in self.payload)
        if self.frames_left is not None:
            self.frames_left -= 1
        return self.payload

    def close(self) -> None:
        self.closed = True


class Recorder:
    def __init__(self, stop: threading.Event, *, after_valid: int) -> None:
        self.items: list[Received | PortStatus] = []
        self.stop = stop
        self.after_valid = after_valid
        self.valid = 0

    def __call__(self, item: Received | PortStatus) -> None:
        self.items.append(item)
        if isinstance(item, Received) and item.frame.valid:
            self.valid += 1
        # A reader that never gets there ends the test with a failure, not a hang.
        if len(self.items) > 20_000 or self.valid >= self.after_valid:
            self.stop.set()

    def states(self) -> list[tuple[str, int | None]]:
        return [(i.state, i.baud) for i in self.items if isinstance(i, PortStatus)]

    def frames(self) -> list[Received]:
        return [i for i in self.items if isinstance(i, Received)]


def _reader(
    opener, *, family: str, baud: int | None, after_valid: int
) -> tuple[PortReader, Recorder]:
    stop = threading.Event()
    recorder = Recorder(stop, after_valid=after_valid)
    reader = PortReader(
        port_id=1, url="fake://", family=family, baud=baud, opener=opener, sink=recorder,
        stop=stop, timing=FAST,
    )  # fmt: skip
    return reader, recorder


def test_probing_finds_the_meters_rate() -> None:
    lines: list[FakeLine] = []

    def opener(url: str, baud: int) -> FakeLine:
        lines.append(FakeLine(19200, baud, payload=PME))
        return lines[-1]

    reader, recorder = _reader(opener, family="pmepmi", baud=None, after_valid=2)
    reader.run()
    states = recorder.states()
    probed = [baud for state, baud in states if state == "probing"]
    assert probed == list(RATES["pmepmi"])  # 1200 … 19200, in the spec's order
    assert ("reading", 19200) in states
    frames = recorder.frames()
    assert len(frames) == 2 and all(f.frame.valid and f.baud == 19200 for f in frames)
    assert reader.locked == 19200 and lines[-1].closed


def test_fixed_rate_never_probes_and_reports_silence() -> None:
    def opener(url: str, baud: int) -> FakeLine:
        return FakeLine(9600, baud)

    stop = threading.Event()
    items: list[Received | PortStatus] = []

    def sink(item: Received | PortStatus) -> None:
        items.append(item)
        if (isinstance(item, PortStatus) and item.state == "silent") or len(items) > 20_000:
            stop.set()

    reader = PortReader(
        port_id=1, url="x", family="linky-standard", baud=1200, opener=opener, sink=sink, stop=stop,
        timing=FAST,
    )  # fmt: skip
    reader.run()
    states = [i.state for i in items if isinstance(i, PortStatus)]
    assert "probing" not in states and "silent" in states
    # Noise at the wrong rate is counted as invalid frames, never as values.
    assert all(not i.frame.valid for i in items if isinstance(i, Received))


def test_auto_probes_again_after_silence() -> None:
    lines: list[FakeLine] = []

    def opener(url: str, baud: int) -> FakeLine:
        lines.append(FakeLine(9600, baud))
        return lines[-1]

    reader, recorder = _reader(opener, family="linky-historique", baud=None, after_valid=3)
    original_read = FakeLine.read
    switched = []

    def read(self: FakeLine, size: int = 1) -> bytes:
        if recorder.valid == 1 and not switched:  # Enedis reconfigures the meter to 1200 Bd
            switched.append(True)
            self.meter_rate = 1200
        return original_read(self, size)

    FakeLine.read = read  # type: ignore[method-assign]
    try:
        reader.run()
    finally:
        FakeLine.read = original_read  # type: ignore[method-assign]
    states = recorder.states()
    assert ("reading", 9600) in states and ("reading", 1200) in states
    assert states.index(("reading", 9600)) < states.index(("reading", 1200))


def test_vanished_port_is_reopened_with_backoff_and_only_the_cut_frame_is_lost() -> None:
    opened: list[int] = []

    def opener(url: str, baud: int) -> FakeLine:
        opened.append(baud)
        if len(opened) in (2, 3):  # unplugged: the device is gone for two attempts
            raise serial.SerialException("could not open port")
        return FakeLine(9600, baud, frames=2)

    reader, recorder = _reader(opener, family="linky-standard", baud=None, after_valid=4)
    reader.run()
    states = [state for state, _baud in recorder.states()]
    assert states.count("down") >= 3
    assert len(opened) >= 4
    assert opened[1:] == [9600] * (len(opened) - 1)  # reopened at the rate found, no probing
    assert sum(f.frame.valid for f in recorder.frames()) == 4


def test_line_is_opened_8n1_so_the_parity_bit_reaches_the_decoder() -> None:
    """02E §1.5.1: 7 data bits, then « un bit de parité, parité paire ». Opened 8N1, the port
    hands that bit over as bit 7; the reader's decoder checks it, and counts bad bytes."""
    opened: list[dict[str, object]] = []

    def fake_serial_for_url(url: str, **settings: object) -> FakeLine:
        opened.append(settings)
        return FakeLine(9600, int(settings["baudrate"]))  # type: ignore[call-overload]

    original = serial.serial_for_url
    serial.serial_for_url = fake_serial_for_url
    try:
        from tic.reader import open_serial

        open_serial("/dev/ttyTIC0", 9600)
    finally:
        serial.serial_for_url = original
    assert opened[0]["bytesize"] == serial.EIGHTBITS
    assert opened[0]["parity"] == serial.PARITY_NONE

    damaged = bytearray(LINKY)
    damaged[30] ^= 0x40  # bit 6: invisible to the checksum, not to the parity bit
    lines = iter([bytes(damaged) + b"\x00noise", LINKY, LINKY])

    class Line(FakeLine):
        def read(self, size: int = 1) -> bytes:
            return next(lines, b"")

    reader, recorder = _reader(
        lambda url, baud: Line(9600, baud), family="linky-standard", baud=9600, after_valid=2
    )
    reader.run()
    frames = recorder.frames()
    assert [f.frame.valid for f in frames] == [False, True, True]
    assert any("parity error" in error for error in frames[0].frame.errors)
    counts = [i for i in recorder.items if isinstance(i, LineCounts)]
    assert sum(c.parity_errors for c in counts) >= 1  # the flipped byte (and the noise's)
    assert sum(c.noise_bytes for c in counts) == 6


def test_port_without_the_parity_bit_is_read_from_seven_bits() -> None:
    """A bridge that drops the parity bit: ``check_parity`` off, bytes cut to 7 bits."""
    seven_bits = linky_standard_frame(adsc="061961361253", at=AT, east=5)
    stop = threading.Event()
    recorder = Recorder(stop, after_valid=2)
    reader = PortReader(
        port_id=1, url="socket://bridge:2000", family="linky-standard", baud=9600,
        opener=lambda url, baud: FakeLine(9600, baud, payload=seven_bits), sink=recorder,
        stop=stop, timing=FAST, parity=False,
    )  # fmt: skip
    reader.run()
    assert recorder.valid == 2
