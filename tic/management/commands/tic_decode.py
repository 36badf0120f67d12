"""``manage.py tic_decode [--parity] FILE|-``: decode a raw TIC capture, one JSON object per frame.

All decoding lives in ``tic.protocol``; this command reads bytes in chunks, feeds the stream
decoder and formats what comes out (JSON lines or a table on stdout, a summary on stderr).
``--parity``: the capture was taken 8N1, bit 7 of each byte is the character's even-parity bit
(02E §1.5.1), checked per byte; without it bytes are cut to 7 bits.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tic.protocol import Frame, Group, MeterFamily, ProfileSlot, TicStreamDecoder

CHUNK_BYTES = 4096
METER_CHOICES = ["auto"] + [family.value for family in MeterFamily if family.value != "unknown"]


def _jsonable(value: object) -> Any:
    """Typed values as JSON: datetimes ISO 8601, decimals as numbers, records as objects."""
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, ProfileSlot):
        return {
            "start": value.start.strftime("%H:%M"),
            "action": value.action,
            "tariff_index": value.tariff_index,
            "virtual_contacts": list(value.virtual_contacts),
            "dry_contact": value.dry_contact,
        }
    if is_dataclass(value) and not isinstance(value, type):
        return {field.name: _jsonable(getattr(value, field.name)) for field in fields(value)}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    if isinstance(value, frozenset | set):
        return sorted(_jsonable(item) for item in value)
    return value


def group_json(group: Group) -> dict[str, Any]:
    out: dict[str, Any] = {
        "raw": group.raw,
        "value": _jsonable(group.value),
        "unit": group.unit,
        "timestamp": _jsonable(group.timestamp),
    }
    if group.raw_label != group.label:
        out["raw_label"] = group.raw_label
    if group.flags:
        out["flags"] = sorted(group.flags)
    if group.error is not None:
        out["error"] = group.error
    return out


def frame_json(frame: Frame) -> dict[str, Any]:
    return {
        "meter": frame.meter.value,
        "mode": frame.mode,
        "valid": frame.valid,
        "interrupted": frame.interrupted,
        "labels": {label: group_json(group) for label, group in frame.groups.items()},
        "errors": frame.errors,
    }


def frame_table(number: int, frame: Frame) -> str:
    state = "valid" if frame.valid else ("interrupted" if frame.interrupted else "INVALID")
    lines = [f"# frame {number}: {frame.meter.value} {frame.mode} {state}"]
    for label, group in frame.groups.items():
        value = json.dumps(_jsonable(group.value), ensure_ascii=False)
        unit = group.unit or ""
        stamp = group.timestamp.isoformat() if group.timestamp else ""
        lines.append(f"{label:<10} {group.raw!r:<34} {value} {unit} {stamp}".rstrip())
    lines.extend(f"! {error}" for error in frame.errors)
    return "\n".join(lines)


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


class Command(BaseCommand):
    help = "Decode a raw TIC byte capture (file or '-' for stdin) into frames."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="capture file, or '-' to read standard input")
        parser.add_argument("--meter", choices=METER_CHOICES, default="auto")
        parser.add_argument("--format", choices=["jsonl", "table"], default="jsonl")
        parser.add_argument(
            "--parity",
            action="store_true",
            help="capture taken 8N1: check each byte's even-parity bit (bit 7)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        meter = None if options["meter"] == "auto" else MeterFamily(options["meter"])
        decoder = TicStreamDecoder(meter, parity=options["parity"])
        as_table = options["format"] == "table"
        number = 0
        for chunk in self._read(options["source"]):
            for frame in decoder.feed(chunk):
                number += 1
                if as_table:
                    self.stdout.write(frame_table(number, frame))
                else:
                    self.stdout.write(json.dumps(frame_json(frame), ensure_ascii=False))
        self._summary(decoder)

    def _read(self, source: str) -> Iterator[bytes]:
        if source == "-":
            yield from _chunks(sys.stdin.buffer)
            return
        path = Path(source)
        try:
            with path.open("rb") as stream:
                yield from _chunks(stream)
        except OSError as exc:
            raise CommandError(f"cannot read {source}: {exc.strerror}") from exc

    def _summary(self, decoder: TicStreamDecoder) -> None:
        counts = decoder.counters
        line = (
            f"frames: {counts.frames}, valid: {counts.valid}, invalid: {counts.invalid}, "
            f"interrupted: {counts.interrupted}, bad groups: {counts.bad_groups}, "
            f"noise bytes: {counts.noise_bytes}"
        )
        if decoder.parity:
            line += f", parity errors: {counts.parity_errors}"
        if decoder.pending_bytes:
            line += f", unfinished frame at end: {decoder.pending_bytes} bytes"
        self.stderr.write(line)
