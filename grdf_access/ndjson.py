"""Tolerant NDJSON reading for ADICT answers (ref §1.5).

ADICT streams one JSON object a line, mixed with processing-status objects
(``{"code_statut_traitement": …, "message_retour_traitement": …}``) that carry no data. The
sandbox also answered pretty-printed objects spread over several lines, and once an object with
a missing bracket. :func:`parse_ndjson` keeps every usable object, drops status lines (keeping
the last status), unwraps the old ``liste_acces`` wrapper and reports each unusable block as a
:class:`LineProblem` instead of failing the whole answer.

The common case (one valid object a line) costs one ``json.loads`` a line; the bracket counting
that reassembles multi-line objects only runs once a line fails to parse alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

_EXCERPT = 200
STATUS_KEYS = frozenset({"code_statut_traitement", "message_retour_traitement"})


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A part of an answer that could not be used: ``line`` is 1-based (0: not line-bound)."""

    line: int
    reason: str
    excerpt: str


@dataclass(frozen=True, slots=True)
class ParsedNdjson:
    objects: list[dict[str, Any]]
    problems: tuple[LineProblem, ...]
    status: dict[str, Any] | None  # the last processing-status object, if any


def is_status_line(obj: dict[str, Any]) -> bool:
    """A processing-status object: only ``code_statut_traitement``/``message_retour_traitement``."""
    return "code_statut_traitement" in obj and obj.keys() <= STATUS_KEYS


def parse_ndjson(body: bytes | str) -> ParsedNdjson:
    """Split an NDJSON answer into data objects, problems and the processing status."""
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    objects: list[dict[str, Any]] = []
    problems: list[LineProblem] = []
    status: dict[str, Any] | None = None
    loads = json.loads
    pending: list[str] = []  # lines of a multi-line object being reassembled
    pending_from = 0

    def emit(value: Any, line: int) -> None:
        nonlocal status
        if isinstance(value, dict):
            if is_status_line(value):
                status = value
            elif isinstance(value.get("liste_acces"), list) and len(value) <= 3:
                # Older answers wrapped the rights in "liste_acces" (ref §1.5).
                for item in value["liste_acces"]:
                    emit(item, line)
                if "code_statut_traitement" in value:
                    status = {k: value[k] for k in STATUS_KEYS if k in value}
            else:
                objects.append(value)
        elif isinstance(value, list):
            for item in value:
                emit(item, line)
        else:
            problems.append(LineProblem(line, "not a JSON object", _excerpt(repr(value))))

    def flush_broken() -> None:
        nonlocal pending
        if pending:
            problems.append(
                LineProblem(pending_from, "malformed JSON", _excerpt("\n".join(pending)))
            )
            pending = []

    # Split on "\n" only: str.splitlines() also breaks on U+2028, U+0085 and other characters
    # that JSON strings may carry raw.
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not pending:
            try:
                emit(loads(stripped), number)
                continue
            except ValueError:
                pass
            pending, pending_from = [line], number
        else:
            # A pretty-printed object's inner lines are indented or start with a closing
            # bracket; an unindented "{" means the previous object never closed.
            if line.startswith("{"):
                flush_broken()
                try:
                    emit(loads(stripped), number)
                    continue
                except ValueError:
                    pending, pending_from = [line], number
                    continue
            pending.append(line)
        depth = _depth("\n".join(pending))
        if depth > 0:
            continue
        joined = "\n".join(pending)
        try:
            emit(loads(joined), pending_from)
        except ValueError:
            problems.append(LineProblem(pending_from, "malformed JSON", _excerpt(joined)))
        pending = []
    flush_broken()
    return ParsedNdjson(objects, tuple(problems), status)


def _depth(text: str) -> int:
    """Open brackets minus closed ones, outside strings; negative means too many closings."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
    return depth


def _excerpt(text: str) -> str:
    return text[:_EXCERPT] + ("…" if len(text) > _EXCERPT else "")
