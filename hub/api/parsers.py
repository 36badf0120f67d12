"""The API's JSON parser: DRF's, refusing strings the database could never store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


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
        data = super().parse(stream, media_type, parser_context)
        if contains_nul(data):
            raise ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data
