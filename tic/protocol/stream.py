"""Stream decoder: byte chunks cut anywhere in, frames out.

Framing follows Enedis-NOI-CPT_02E §1.5.2 and Enedis-NOI-CPT_54E §5.3.6: a frame runs from
STX (0x02) to ETX (0x03); EOT (0x04) means the meter stopped mid-frame and will start over at
the next STX. Characters are 7 data bits with even parity (02E §1.5.1, 54E §5.3.5). A line
read 8N1 hands us the parity bit as bit 7: with ``parity=True`` each byte is checked (02E
§1.5.3.1 step A) and a byte that fails keeps bit 7 set, which no group, separator or frame
boundary accepts, so its group (and the frame) is rejected; a good byte is cut to its 7 bits.
Without ``parity`` (a 7-bit line, a bridge that drops the bit) bytes are cut to 7 bits.
"""

from __future__ import annotations

import re

from .complete import CONDITIONAL, kind_of
from .frames import DEFAULT_MODES, KnownGroups, build_frame, interrupted_frame
from .model import Counters, Frame, MeterFamily

MAX_FRAME_BYTES = 8192  # the longest spec frames are ~1.3 kB; beyond this we lost an ETX
_STRIP_PARITY = bytes(b & 0x7F for b in range(256))
# Even parity over the 8 bits: a good byte becomes its 7-bit character, a bad one >= 0x80.
_CHECK_PARITY = bytes(b & 0x7F if b.bit_count() % 2 == 0 else b | 0x80 for b in range(256))
_HIGH = bytes(range(0x80, 0x100))
_BOUNDARY = re.compile(rb"[\x02\x03\x04]")
_STX = b"\x02"
_ETX = 0x03
_EOT = 0x04


class TicStreamDecoder:
    """Incremental TIC decoder for one serial line.

    ``meter=None`` detects the family frame by frame; a given family types labels with its
    table and flags frames whose separator that family never uses. ``parity=True`` takes bytes
    whose bit 7 is the even-parity bit (a 7E1 line read 8N1) and checks it.
    """

    def __init__(
        self, meter: MeterFamily | None = None, *, parity: bool = False, remember: bool = True
    ) -> None:
        self.meter = meter if meter is not MeterFamily.UNKNOWN else None
        self.parity = parity
        self._table = _CHECK_PARITY if parity else _STRIP_PARITY
        self.counters = Counters()
        self._in_frame = False
        self._parts: list[bytes] = []
        self._pending = 0
        # Checksum mode per separator; only auto-detection may change it.
        self._modes: dict[int, int] = dict(DEFAULT_MODES)
        self._guess = MeterFamily.UNKNOWN  # family of the last complete frame
        # Frame kind → the groups its last conforming frame carried (complete.py).
        self._carried: dict[tuple[str, ...], frozenset[str]] = {}
        # Groups already checked and typed, by their bytes (``frames._from_known``).
        self._known: KnownGroups | None = {} if remember else None

    @property
    def pending_bytes(self) -> int:
        """Bytes of a frame begun but not yet finished."""
        return self._pending + (1 if self._in_frame else 0)

    def feed(self, chunk: bytes | bytearray | memoryview) -> list[Frame]:
        """Consume ``chunk``; return the frames it completed, in order."""
        data = bytes(chunk).translate(self._table)
        if self.parity and not data.isascii():
            self.counters.parity_errors += len(data) - len(data.translate(None, _HIGH))
        frames: list[Frame] = []
        pos, size = 0, len(data)
        while pos < size:
            if not self._in_frame:
                pos = self._skip_to_stx(data, pos)
                continue
            match = _BOUNDARY.search(data, pos)
            if match is None:
                self._keep(data[pos:] if pos else data, frames)
                break
            end = match.start()
            body = self._take(data[pos:end])
            pos = end + 1
            frames.append(self._finish(body, data[end]))
        return frames

    def flush(self) -> Frame | None:
        """End of input: report a frame begun but never finished as interrupted."""
        if not self._in_frame:
            return None
        body = self._take(b"")
        self._in_frame = False
        return self._count(interrupted_frame(body, self.meter, "input ended before ETX"))

    def _skip_to_stx(self, data: bytes, pos: int) -> int:
        start = data.find(_STX, pos)
        if start < 0:
            self.counters.noise_bytes += len(data) - pos
            return len(data)
        self.counters.noise_bytes += start - pos
        self._in_frame = True
        return start + 1

    def _keep(self, part: bytes, frames: list[Frame]) -> None:
        self._parts.append(part)
        self._pending += len(part)
        if self._pending > MAX_FRAME_BYTES:
            body = self._take(b"")
            self._in_frame = False
            reason = f"no ETX within {MAX_FRAME_BYTES} bytes"
            frames.append(self._count(interrupted_frame(body, self.meter, reason)))

    def _take(self, tail: bytes) -> bytes:
        if not self._parts:
            return tail
        self._parts.append(tail)
        body = b"".join(self._parts)
        self._parts.clear()
        self._pending = 0
        return body

    def _finish(self, body: bytes, boundary: int) -> Frame:
        if len(body) > MAX_FRAME_BYTES:
            self._in_frame = boundary not in (_ETX, _EOT)
            reason = f"no ETX within {MAX_FRAME_BYTES} bytes"
            return self._count(interrupted_frame(body, self.meter, reason))
        if boundary == _ETX:
            self._in_frame = False
            adaptive = self.meter is None
            frame = build_frame(body, self.meter, self._guess, self._modes, adaptive, self._known)
            self._guess = frame.meter
            if frame.valid:
                self._expect_as_before(frame)
            return self._count(frame)
        if boundary == _EOT:
            self._in_frame = False
            return self._count(interrupted_frame(body, self.meter, "interrupted by EOT"))
        # A new STX before ETX/EOT: the end of this frame was lost; the new one starts now.
        return self._count(interrupted_frame(body, self.meter, "STX before ETX"))

    def _expect_as_before(self, frame: Frame) -> None:
        """Invalidate a frame lacking a group the previous frame of its kind carried."""
        kind = kind_of(frame.meter, frame.mode, frame.groups)
        before = self._carried.get(kind)
        if before is not None and frame.groups.keys() >= before:
            if len(before) != len(frame.groups):
                self._carried[kind] = frozenset(frame.groups)
            return
        self._carried[kind] = frozenset(frame.groups)
        if before is None:
            return
        lost = before.difference(frame.groups, CONDITIONAL)
        if lost:
            frame.valid = False
            frame.missing = tuple(sorted(lost))
            frame.errors.append(
                f"incomplete frame: missing {', '.join(frame.missing)}, sent in the previous"
                " frame (02E §1.5.3.1 D)"
            )

    def _count(self, frame: Frame) -> Frame:
        counters = self.counters
        counters.frames += 1
        counters.bad_groups += frame.bad_groups
        if frame.interrupted:
            counters.interrupted += 1
        elif frame.valid:
            counters.valid += 1
        else:
            counters.invalid += 1
        return frame


def decode_bytes(
    data: bytes, meter: MeterFamily | None = None, *, parity: bool = False
) -> list[Frame]:
    """Frames completed in ``data``; a trailing unfinished frame is left out."""
    return TicStreamDecoder(meter, parity=parity).feed(data)
