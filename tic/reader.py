"""Reading one TIC port: open, find the rate, decode, hand frames over, reopen when it vanishes.

No Django here: ``PortReader`` takes an ``opener`` (``open_serial`` in production, anything
with ``read``/``close``/``baudrate`` in tests) and a ``sink`` it calls with ``Received`` frames
and ``PortStatus`` changes (``tic.ingest``'s types, plain dataclasses).

* The line is 7E1 (02E §1.5.1). It is opened 8N1, so that each character's even-parity bit
  arrives as bit 7 and the decoder checks it (02E §1.5.3.1 step A): pyserial's 7E1 would leave
  the check to the driver, and Linux leaves INPCK off. A port behind a bridge that drops the bit
  (``check_parity`` off) is decoded from 7 bits.
* With a fixed rate the reader reads; with ``auto`` it probes the rates the spec allows for the
  family (PME-PMI 1200 to 19200, SAPHIR 1200/9600, Linky 1200/9600) until a valid frame arrives,
  and probes again after ``silence`` seconds without one (02E §3.5.2 and Annex A: a receiver of
  PME-PMI and SAPHIR meters must probe the rates; no correct frame for 10 s is a fault).
* A port that fails (device unplugged, bridge closed the connection) is closed, reported
  ``down`` and reopened with exponential backoff; the frame cut by the failure is reported as
  interrupted, nothing else is lost.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import serial

from tic.ingest import LineCounts, PortStatus, Received
from tic.models import PortState
from tic.protocol import MeterFamily, TicStreamDecoder

RATES: dict[str, tuple[int, ...]] = {
    "pmepmi": (1200, 2400, 4800, 9600, 19200),  # 02E §1.4.2
    "saphir": (1200, 9600),  # 02E §2.10.1 « Vitesse de transmission »
    "linky-historique": (1200, 9600),  # 54E §5.2: 1200 historique, 9600 standard
    "linky-standard": (9600, 1200),
    "cbe": (1200,),
    "auto": (1200, 9600, 19200, 4800, 2400),
}


class SerialLike(Protocol):
    baudrate: int

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


Opener = Callable[[str, int], SerialLike]
Sink = Callable[[Received | PortStatus | LineCounts], None]


def open_serial(url: str, baud: int, *, timeout: float = 0.1) -> SerialLike:
    """pyserial's ``serial_for_url``: device paths, ``socket://``, ``rfc2217://``, ``loop://``.

    8N1: a 7E1 character is 7 data bits and the parity bit, which is then bit 7 of the byte.
    """
    link: SerialLike = serial.serial_for_url(
        url,
        baudrate=baud,
        bytesize=serial.EIGHTBITS,
        parity=serial.PARITY_NONE,
        stopbits=serial.STOPBITS_ONE,
        timeout=timeout,
    )
    return link


def default_probe_window(rate: int) -> float:
    """Long enough to see one whole frame of ~1,000 characters at ``rate`` (10 bits each)."""
    return 1.0 + 12_000 / rate


@dataclass(frozen=True, slots=True)
class Timing:
    silence: float = 10.0  # seconds without a valid frame before probing again
    probe_window: Callable[[int], float] = default_probe_window
    backoff_start: float = 1.0
    backoff_max: float = 30.0
    chunk: int = 4096


DEFAULT_TIMING = Timing()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class PortReader:
    def __init__(
        self,
        *,
        port_id: int,
        url: str,
        family: str,
        baud: int | None,
        opener: Opener,
        sink: Sink,
        stop: threading.Event,
        timing: Timing = DEFAULT_TIMING,
        now: Callable[[], dt.datetime] = _utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        parity: bool = True,
    ) -> None:
        self.port_id = port_id
        self.parity = parity
        self.url = url
        self.family = family
        self.fixed_baud = baud
        self.rates = (baud,) if baud else RATES.get(family, RATES["auto"])
        self.opener = opener
        self.sink = sink
        self.stop = stop
        self.timing = timing
        self.now = now
        self.monotonic = monotonic
        self.locked: int | None = baud
        self._noise_seen = self._parity_seen = 0  # decoder counts already handed over
        self.state = ""
        # The session's state, set by ``begin``: fed from this thread or from a ``Multiplexer``.
        self.link: SerialLike
        self.rate = self.locked or self.rates[0]
        self.decoder = self._decoder()
        self.probing = False
        self.seen_valid = False
        self.deadline = self.last_valid = 0.0

    def run(self) -> None:
        """Read in this thread (ports without a descriptor to wait on), until stopped."""
        delay = self.timing.backoff_start
        while not self.stop.is_set():
            try:
                link = self.begin()
                try:
                    while not self.stop.is_set():
                        try:
                            chunk = link.read(self.timing.chunk)
                        except (serial.SerialException, OSError):
                            self.cut()
                            raise
                        self.feed(chunk)
                finally:
                    link.close()
            except (serial.SerialException, OSError) as exc:
                if self.seen_valid:  # the port worked: the next failure starts the backoff anew
                    delay = self.timing.backoff_start
                self.down(exc)
                if self.stop.wait(delay):
                    break
                delay = min(delay * 2, self.timing.backoff_max)
            else:
                if not self.stop.is_set():  # the link ended without an error: try again soon
                    self.stop.wait(self.timing.backoff_start)
        self.stopped()

    def _decoder(self) -> TicStreamDecoder:
        self._noise_seen = self._parity_seen = 0
        # A Linky switches between historique and standard (Enedis does it remotely): let the
        # decoder tell them apart from the labels rather than hold it to the configured mode.
        hinted = self.family in ("pmepmi", "saphir", "cbe")
        return TicStreamDecoder(MeterFamily(self.family) if hinted else None, parity=self.parity)

    def begin(self) -> SerialLike:
        """Open the port for a session (at the rate found, if one was): the link to read."""
        self.rate = self.locked or self.rates[0]
        self.seen_valid = False
        self._status(PortState.OPENING, baud=self.rate)
        self.link = self.opener(self.url, self.rate)
        self.decoder = self._decoder()
        self.probing = self.fixed_baud is None and self.locked is None
        if self.probing:
            self._status(PortState.PROBING, baud=self.rate)
        self.deadline = self.monotonic() + self.timing.probe_window(self.rate)
        self.last_valid = self.monotonic()
        return self.link

    def feed(self, chunk: bytes) -> None:
        """Decode what the session's link delivered (maybe nothing), then probe another rate
        or report silence when it is time; called at least every tenth of a second or so."""
        decoder, rate = self.decoder, self.rate
        clock = self.monotonic()
        for frame in decoder.feed(chunk) if chunk else ():
            if frame.valid:
                self.last_valid = clock
                self.seen_valid = True
                if self.probing:  # what the probe saw at a wrong rate is not counted
                    counters = decoder.counters
                    self._noise_seen = counters.noise_bytes
                    self._parity_seen = counters.parity_errors
                if self.probing or self.state != PortState.READING:
                    self.probing = False
                    self.locked = rate
                    self._status(PortState.READING, baud=rate)
            if not self.probing:  # garbage seen while probing is not the meter's
                self.sink(Received(self.port_id, frame, self.now(), rate))
        if not self.probing:
            self._line_counts(decoder)
        if self.probing and clock >= self.deadline:
            self._probe(self._next_rate(rate), clock)
        elif not self.probing and clock - self.last_valid >= self.timing.silence:
            if self.fixed_baud is None:
                self.locked = None
                self._probe(self._next_rate(rate), clock)
            elif self.state != PortState.SILENT:
                self._status(PortState.SILENT, baud=rate)

    def _probe(self, rate: int, clock: float) -> None:
        self.probing = True
        self.rate = self.link.baudrate = rate
        self.decoder = self._decoder()
        self.deadline = clock + self.timing.probe_window(rate)
        self._status(PortState.PROBING, baud=rate)

    def cut(self) -> None:
        """The link failed mid-session: the frame it cut is handed over as interrupted."""
        frame = self.decoder.flush()
        if frame is not None and not self.probing:
            self.sink(Received(self.port_id, frame, self.now(), self.rate))

    def down(self, exc: BaseException) -> None:
        self._status(PortState.DOWN, error=f"{type(exc).__name__}: {exc}")

    def stopped(self) -> None:
        self._status(PortState.STOPPED)

    def _line_counts(self, decoder: TicStreamDecoder) -> None:
        """Hand over the bytes outside frames and the parity errors counted since last time."""
        counters = decoder.counters
        noise = counters.noise_bytes - self._noise_seen
        parity = counters.parity_errors - self._parity_seen
        if noise or parity:
            self._noise_seen, self._parity_seen = counters.noise_bytes, counters.parity_errors
            self.sink(LineCounts(self.port_id, noise, parity))

    def _next_rate(self, rate: int) -> int:
        index = self.rates.index(rate) if rate in self.rates else -1
        return self.rates[(index + 1) % len(self.rates)]

    def _status(self, state: str, *, baud: int | None = None, error: str = "") -> None:
        self.state = state
        self.sink(PortStatus(self.port_id, state, self.now(), baud, error))
