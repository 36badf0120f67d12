"""Frame boundaries: STX/ETX, EOT interruptions, noise, parity bits, oversize, flush."""

from __future__ import annotations

from tic.protocol import MeterFamily, TicStreamDecoder, decode_bytes, encode_frame
from tic.protocol.stream import MAX_FRAME_BYTES

LINKY = [
    ("ADCO", "021861348497"),
    ("OPTARIF", "BASE"),
    ("ISOUSC", "30"),
    ("BASE", "012345678"),
    ("PTEC", "TH.."),
    ("IINST", "012"),
    ("IMAX", "090"),
    ("PAPP", "02840"),
    ("HHPHC", "A"),
    ("MOTDETAT", "000000"),
]
FRAME = encode_frame(LINKY)


def _with_parity(data: bytes) -> bytes:
    """What a port opened 8N1 reads from a 7E1 line: the even-parity bit lands in bit 7."""
    return bytes(byte | 0x80 if bin(byte).count("1") % 2 else byte for byte in data)


def test_single_frame() -> None:
    (frame,) = decode_bytes(FRAME)
    assert frame.valid and not frame.interrupted
    assert frame.meter is MeterFamily.LINKY_HISTORIQUE
    assert list(frame.groups) == [label for label, _ in LINKY]
    assert frame.raw == FRAME[1:-1]


def test_eot_interrupts_and_decoding_resumes_at_next_stx() -> None:
    cut = FRAME[: len(FRAME) // 2] + b"\x04"
    decoder = TicStreamDecoder()
    frames = decoder.feed(cut + b"junk after EOT" + FRAME)
    assert [(frame.interrupted, frame.valid) for frame in frames] == [(True, False), (False, True)]
    assert frames[0].errors == ["interrupted by EOT"]
    assert frames[0].groups == {}
    assert decoder.counters.interrupted == 1
    assert decoder.counters.valid == 1
    assert decoder.counters.noise_bytes == len(b"junk after EOT")


def test_hekmon_trace_eot_then_stx() -> None:
    # b'HCHP 019571184 7\r\x04\x02\n' as seen on a real line (linkytic issue 9).
    data = FRAME[:40] + b"\x04" + FRAME
    frames = decode_bytes(data)
    assert [frame.interrupted for frame in frames] == [True, False]
    assert frames[1].valid


def test_stx_before_etx_cuts_the_previous_frame() -> None:
    decoder = TicStreamDecoder()
    frames = decoder.feed(FRAME[:-20] + FRAME)
    assert [frame.interrupted for frame in frames] == [True, False]
    assert frames[0].errors == ["STX before ETX"]
    assert frames[1].valid


def test_noise_outside_frames_is_counted_not_decoded() -> None:
    decoder = TicStreamDecoder()
    frames = decoder.feed(b"\x00\xffgarbage\x03\x04\r\n" + FRAME + b"tail")
    assert len(frames) == 1 and frames[0].valid
    assert decoder.counters.noise_bytes == len(b"\x00\xffgarbage\x03\x04\r\n") + 4


def test_parity_bit_is_stripped() -> None:
    assert _with_parity(FRAME) != FRAME
    (frame,) = decode_bytes(_with_parity(FRAME))
    assert frame.valid
    assert frame.value("PAPP") == 2840


def test_empty_frame_is_invalid() -> None:
    decoder = TicStreamDecoder()
    (frame,) = decoder.feed(b"\x02\x03")
    assert not frame.valid and "empty frame" in frame.errors
    assert decoder.counters.invalid == 1


def test_truncated_frames() -> None:
    decoder = TicStreamDecoder()
    assert decoder.feed(FRAME[:-1]) == []
    assert decoder.pending_bytes == len(FRAME) - 1
    (frame,) = decoder.feed(b"\x03")
    assert frame.valid
    assert decoder.pending_bytes == 0
    decoder.feed(FRAME[:30])
    tail = decoder.flush()
    assert tail is not None and tail.interrupted
    assert tail.errors == ["input ended before ETX"]
    assert decoder.flush() is None


def test_frame_body_cut_inside_a_group_is_invalid() -> None:
    body = FRAME[1:-1]
    (frame,) = decode_bytes(b"\x02" + body[:-5] + b"\x03")
    assert not frame.valid
    assert frame.bad_groups == 1
    assert "HHPHC" in frame.groups  # the complete groups are still there for diagnosis


def test_runaway_frame_without_etx_is_dropped() -> None:
    decoder = TicStreamDecoder()
    frames = decoder.feed(b"\x02" + b"A" * (MAX_FRAME_BYTES + 10))
    assert len(frames) == 1 and frames[0].interrupted
    assert decoder.pending_bytes == 0
    assert decoder.feed(FRAME)[0].valid


def test_oversized_frame_in_one_chunk_is_dropped() -> None:
    decoder = TicStreamDecoder()
    frames = decoder.feed(b"\x02" + b"\nZA 1 Q\r" * MAX_FRAME_BYTES + b"\x03" + FRAME)
    assert [frame.interrupted for frame in frames] == [True, False]
    assert frames[0].errors == [f"no ETX within {MAX_FRAME_BYTES} bytes"]


def test_bytearray_and_memoryview_chunks() -> None:
    decoder = TicStreamDecoder()
    assert decoder.feed(bytearray(FRAME[:20])) == []
    (frame,) = decoder.feed(memoryview(FRAME)[20:])
    assert frame.valid and isinstance(frame.raw, bytes)


def test_garbage_never_raises() -> None:
    decoder = TicStreamDecoder()
    for seed in range(50):
        blob = bytes((seed * 7919 + i * 104729) % 256 for i in range(997))
        decoder.feed(blob)
    counters = decoder.counters
    assert counters.frames == counters.valid + counters.invalid + counters.interrupted


def test_counters_add_up_over_a_mixed_stream() -> None:
    decoder = TicStreamDecoder()
    stream = FRAME + FRAME[:50] + b"\x04" + FRAME.replace(b"TH..", b"TH.!") + b"\x02\x03"
    frames = decoder.feed(stream)
    assert [frame.valid for frame in frames] == [True, False, False, False]
    assert decoder.counters.as_dict() == {
        "frames": 4,
        "valid": 1,
        "invalid": 2,
        "interrupted": 1,
        "bad_groups": 1,
        "noise_bytes": 0,
        "parity_errors": 0,
    }
