"""Credentials kept out of log lines: query strings and requests as they may be written."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "***"
# Query parameter names whose values are credentials (access_token, client_secret, api_key, ...).
SECRET_PARAM = re.compile(
    r"token|passw|secret|api[-_]?key|signature|credential|^(key|code|sig|auth)$", re.IGNORECASE
)


def redacted_query(query: str) -> str:
    """A query string with the values of credential-like parameters replaced."""
    if not query:
        return ""
    params = [
        (name, REDACTED if SECRET_PARAM.search(name) else value)
        for name, value in parse_qsl(query, keep_blank_values=True)
    ]
    return urlencode(params, safe="*")


def request_text(request: Any) -> str:
    """What a log line says of a Django request: its ``repr`` (``<WSGIRequest: GET '/path?…'>``)
    with the query string's credential-like values replaced."""
    query = redacted_query(request.META.get("QUERY_STRING", ""))
    target = f"{request.path}?{query}" if query else request.path
    return f"<{type(request).__name__}: {request.method} {target!r}>"


def is_request(value: Any) -> bool:
    # Duck-typed: this module is imported by the settings, before Django's HTTP classes.
    return hasattr(value, "META") and hasattr(value, "path") and hasattr(value, "method")
