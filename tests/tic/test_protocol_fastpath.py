"""The decoder's fast path (groups already checked, looked up by their bytes) against a slow
reference decoder written from the spec, and against the decoder with its memory off.

Reference: Enedis-NOI-CPT_02E §1.5.2 « Trame » and « Groupe d'information » (54E §5.3.6 alike):
« La trame est composée d'un caractère de début de trame "Start TeXt" STX (002 h), du corps de
la trame, d'un caractère de fin de trame "End TeXt" ETX (003 h) » ; « L'émission d'une trame
peut être interrompue […] par le caractère "End Of Text" EOT (004 h) » ; a group is « LF,
étiquette, séparateur, [horodate, séparateur,] donnée, séparateur, checksum, CR », and « la
checksum est calculée sur l'ensemble des caractères allant du début du champ étiquette à la
fin du champ donnée [mode 1, et séparateur compris en mode 2] […] on ne conserve que les six
bits de poids faible du résultat obtenu […] on ajoute 20 en hexadécimal ». 02E §1.5.1: « sept
bits pour représenter le caractère codé en ASCII, un bit de parité, parité paire ».
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tic.conftest import fixtures_dir
from tests.tic.test_protocol_fuzz import chunks, mutate, saphir_stream
from tic.protocol import Frame, MeterFamily, TicStreamDecoder, with_parity
from tic.protocol.labels import ALIASES, TABLES
from tic.simulator import SimulatedPmePmi, linky_standard_frame

STX, ETX, EOT, LF, CR = 0x02, 0x03, 0x04, 0x0A, 0x0D
MAX_FRAME = 8192


@dataclass
class RefFrame:
    interrupted: bool
    good: dict[str, str] = field(default_factory=dict)  # raw label -> data, first occurrence
    bad: int = 0


def even(byte: int) -> bool:
    return byte.bit_count() % 2 == 0


def ref_frames(line: bytes, *, parity: bool) -> list[tuple[bytes, bool]]:
    """(body, closed by ETX) for every frame of ``line``, byte by byte as the spec tells."""
    out: list[tuple[bytes, bool]] = []
    body: bytearray | None = None
    for raw in line:
        # A byte whose parity is wrong keeps bit 7: no group accepts it.
        byte = (raw & 0x7F if even(raw) else raw | 0x80) if parity else raw & 0x7F
        if body is None:
            if byte == STX:
                body = bytearray()
            continue
        if byte == STX:
            out.append((bytes(body), False))
            body = bytearray()
        elif byte in (ETX, EOT):
            out.append((bytes(body), byte == ETX and len(body) <= MAX_FRAME))
            body = None
        else:
            body.append(byte)
            if len(body) > MAX_FRAME:
                out.append((bytes(body), False))
                body = None
    return out


def ref_group(group: bytes, sep: int, mode: int) -> tuple[str, str] | None:
    """(label, data) of one group without its LF, or None when it breaks the layout."""
    if len(group) < 5 or group[-1] != CR or group[-3] != sep:
        return None
    if any((b < 0x20 and b != sep) or b > 0x7E for b in group[:-1]):
        return None
    zone = group[:-2] if mode == 2 else group[:-3]  # label … data (+ the last SEP in mode 2)
    if (sum(zone) & 0x3F) + 0x20 != group[-2]:
        return None
    text = group[:-3].decode("ascii")
    label, _, rest = text.partition(chr(sep))
    if not label or len(label) > 9 or not _:
        return None
    if sep == 0x09 and len(rest) >= 14 and rest[13] == "\t":
        rest = rest[14:]  # a horodate (54E Table 6)
    elif not rest:
        return None
    return label, rest


def ref_decode(body: bytes, family: MeterFamily, mode: int) -> RefFrame:
    sep = 0x09 if 0x09 in body else 0x20
    frame = RefFrame(interrupted=False)
    pieces = body.split(b"\n")
    if pieces[0]:
        frame.bad += 1
    table = TABLES[family]
    seen: set[str] = set()
    for piece in pieces[1:]:
        group = ref_group(piece, sep, mode)
        if group is None:
            frame.bad += 1
            continue
        raw_label, data = group
        label = ALIASES.get(raw_label, raw_label) if family is MeterFamily.PMEPMI else raw_label
        if label in seen:
            frame.bad += 1
            continue
        seen.add(label)
        frame.good[raw_label] = data
        spec = table.get(label)
        if family is not MeterFamily.UNKNOWN and spec is None:
            frame.bad += 1
    return frame


def streams() -> list[bytes]:
    fixtures = fixtures_dir()
    found = [p.read_bytes() for p in sorted(fixtures.iterdir()) if p.suffix in {".bin", ".txt"}]
    return [*found, saphir_stream(standard=False), saphir_stream(standard=True)]


STREAMS = streams()


def fresh_stream(rng: random.Random) -> bytes:
    """Valid frames whose values change from frame to frame (the fast path's misses)."""
    start = dt.datetime(2026, 3, 29, 0, 55, tzinfo=dt.UTC) + dt.timedelta(
        seconds=rng.randrange(10**6)
    )
    meter = SimulatedPmePmi(ads="041436028024", ps_kva=rng.choice((36, 60, 250)))
    out = b""
    for n in range(rng.randint(2, 8)):
        at = start + dt.timedelta(seconds=n * rng.randint(1, 400))
        if rng.random() < 0.5:
            out += meter.frame(at=at, power_va=rng.uniform(0, 90_000))
        else:
            out += linky_standard_frame(adsc="061961361253", at=at, east=rng.randrange(10**8))
    return out


def decode(line: bytes, rng: random.Random, *, parity: bool, remember: bool) -> list[Frame]:
    decoder = TicStreamDecoder(parity=parity, remember=remember)
    frames = [f for chunk in chunks(line, rng) for f in decoder.feed(chunk)]
    last = decoder.flush()
    return [*frames, *([last] if last else [])]


def check(line: bytes, seed: int, parity: bool) -> None:
    fast = decode(line, random.Random(seed), parity=parity, remember=True)
    slow = decode(line, random.Random(seed), parity=parity, remember=False)
    assert fast == slow  # every field of every frame, groups and typed values included
    closed = [f for f in fast if not f.interrupted]
    reference = [body for body, ok in ref_frames(line, parity=parity) if ok]
    assert len(closed) == len(reference)
    for frame, body in zip(closed, reference, strict=True):
        assert frame.raw == body
        ref = ref_decode(body, frame.meter, frame.checksum_mode or 1)
        got = {g.raw_label: g.raw for g in frame.groups.values()}
        assert got == ref.good, frame.errors
        if frame.valid:
            assert ref.bad == 0
        assert frame.bad_groups >= ref.bad


@settings(max_examples=60, deadline=None)
@given(
    stream=st.integers(0, len(STREAMS) - 1),
    seed=st.integers(0, 2**32),
    repeats=st.integers(1, 4),
    parity=st.booleans(),
    damaged=st.booleans(),
)
def test_fast_path_agrees_with_the_reference_on_captures(
    stream: int, seed: int, repeats: int, parity: bool, damaged: bool
) -> None:
    """Captures read several times (so the fast path is taken), clean or damaged."""
    rng = random.Random(seed)
    clean = STREAMS[stream] * repeats
    line = with_parity(clean) if parity else clean
    if damaged:
        line = mutate(line, rng, parity=parity)
    check(line, seed, parity)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), parity=st.booleans(), damaged=st.booleans())
def test_fast_path_agrees_with_the_reference_on_changing_values(
    seed: int, parity: bool, damaged: bool
) -> None:
    """Valid frames with new values each time, and the same damaged; both meter families on one
    line, so remembered groups of one family must not pass for the other's."""
    rng = random.Random(seed)
    clean = fresh_stream(rng)
    line = with_parity(clean) if parity else clean
    if damaged:
        line = mutate(line, rng, parity=parity)
    check(line, seed, parity)


def test_a_remembered_group_damaged_later_is_refused() -> None:
    """A group seen good once, then with one flipped bit: its frame is invalid at once."""
    line = STREAMS[-1]
    first = line[: line.index(b"\x03") + 1]
    damaged = bytearray(first)
    damaged[first.index(b"EAS") + 6] ^= 0x01
    decoder = TicStreamDecoder()
    assert [f.valid for f in decoder.feed(first * 2)] == [True, True]
    (frame,) = decoder.feed(bytes(damaged))
    assert not frame.valid and frame.bad_groups == 1
    assert [f.valid for f in decoder.feed(first)] == [True]


def test_remembered_groups_are_bounded() -> None:
    from tic.protocol.frames import KNOWN_LIMIT

    decoder = TicStreamDecoder()
    rng = random.Random(3)
    for _ in range(60):
        decoder.feed(fresh_stream(rng))
    assert decoder._known is not None
    assert all(len(table) <= KNOWN_LIMIT for table in decoder._known.values())
