"""Reading the API's problem answers (RFC 9457, ``hub.api.problems``) in tests."""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"


def problem(response: Any, status: int | None = None) -> dict[str, Any]:
    """The problem body, after checking its media type and members (and the status if given)."""
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(PROBLEM_JSON), response["Content-Type"]
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= body.keys(), body
    assert body["status"] == response.status_code
    return body


def field_errors(response: Any) -> dict[str | None, list[str]]:
    """A 400's ``errors`` as ``{field: [reason, ...]}`` (``None``: the request as a whole)."""
    body = problem(response, 400)
    found: dict[str | None, list[str]] = {}
    for error in body["errors"]:
        assert {"field", "pointer", "reason"} <= error.keys(), error
        found.setdefault(error["field"], []).append(error["reason"])
    return found


def reasons(response: Any) -> str:
    """Every reason of a 400, and its detail, as one text to search."""
    body = problem(response, 400)
    return " ".join([body["detail"], *(e["reason"] for e in body["errors"])])
