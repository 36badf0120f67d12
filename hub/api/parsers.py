"""The API's JSON parser: DRF's, refusing NUL characters and nesting beyond a fixed depth."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# No request of this hub nests deeper than a handful of levels; 64 leaves room and keeps every
# later walk (serializers, json.dumps into a JSONField) far from Python's recursion limit.
MAX_JSON_DEPTH = 64


class TooDeep(ValueError):
    """JSON nested deeper than ``MAX_JSON_DEPTH``."""


def depth_of(data: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_bounded(raw: str | bytes) -> Any:
    """``json.loads`` that answers ``TooDeep`` instead of a RecursionError (a 500) or a
    document no view expects; ``json.JSONDecodeError`` as usual."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
    if depth_of(data) > MAX_JSON_DEPTH:
        raise TooDeep(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    return data


def contains_nul(data: Any) -> bool:
    """Whether any string (key or value) in parsed JSON holds a NUL character."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class StorableJSONParser(JSONParser):
    """``"\\u0000"`` is valid JSON but PostgreSQL text cannot hold it: a 400 here, at the door,
    rather than a database error half-way through a view (the NUL-byte middleware does the same
    for paths and query strings)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if depth_of(data) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
        if contains_nul(data):
            raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data
