"""Compare an OpenAPI example with a real answer of its operation, key by key."""

from __future__ import annotations

from typing import Any


def shape_mismatches(example: Any, actual: Any, at: str = "") -> list[str]:
    """Where the example's keys differ from the answer's (a list: its first items compared;
    scalars and nulls are values, not shape)."""
    if isinstance(example, dict) and isinstance(actual, dict):
        found = [f"{at}/{k}: only in the example" for k in sorted(set(example) - set(actual))]
        found += [f"{at}/{k}: missing from the example" for k in sorted(set(actual) - set(example))]
        for key in sorted(set(example) & set(actual)):
            found += shape_mismatches(example[key], actual[key], f"{at}/{key}")
        return found
    if isinstance(example, list) and isinstance(actual, list):
        if example and actual:
            return shape_mismatches(example[0], actual[0], f"{at}/0")
        return []
    if None in (example, actual):
        return []
    if isinstance(example, dict | list) or isinstance(actual, dict | list):
        return [f"{at}: {type(example).__name__} in the example, {type(actual).__name__} answered"]
    return []
