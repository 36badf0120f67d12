"""Parsers of GRDF publications, registered per flux and version once a format is known.

GRDF's publication formats are not public: the only parser shipped reads a synthetic layout of
our own (``synthetic.py``), registered under the version ``VSYNTH`` that no GRDF file carries.
A parser returns the data rows, the gas days covered and the rows whose value is empty; the
watch's checks use them when a parser exists and fall back on counting lines otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol


class ParseError(ValueError):
    """The file does not follow the parser's layout; ``line`` is the file's own (1-based)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"ligne {line} : {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class Parsed:
    data_rows: int
    gas_days: frozenset[dt.date] = field(default_factory=frozenset)
    empty_values: int = 0


class Parser(Protocol):
    flux: str
    version: str
    name: str

    def parse(self, data: bytes) -> Parsed: ...


_REGISTRY: dict[tuple[str, str], Parser] = {}


class AlreadyRegistered(ValueError):
    pass


def register(parser: Parser, *, replace: bool = False) -> None:
    key = (parser.flux.upper(), parser.version.upper())
    if key in _REGISTRY and not replace and _REGISTRY[key] is not parser:
        raise AlreadyRegistered(f"a parser is already registered for {key}")
    _REGISTRY[key] = parser


def parser_for(*, flux: str, version: str) -> Parser | None:
    return _REGISTRY.get((flux.upper(), version.upper()))


def registered() -> list[Parser]:
    return list(_REGISTRY.values())


@contextmanager
def registered_parser(parser: Parser) -> Iterator[Parser]:
    """Register ``parser`` for the duration of a block (tests), restoring the previous one."""
    key = (parser.flux.upper(), parser.version.upper())
    previous = _REGISTRY.get(key)
    _REGISTRY[key] = parser
    try:
        yield parser
    finally:
        if previous is None:
            _REGISTRY.pop(key, None)
        else:
            _REGISTRY[key] = previous


def register_builtin() -> None:
    from grdf_access.vega.parsers.synthetic import SYNTHETIC_FLUX, SyntheticDailyCsv

    for flux in SYNTHETIC_FLUX:
        register(SyntheticDailyCsv(flux=flux), replace=True)
