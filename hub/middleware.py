"""Request hygiene shared by every app, before any view runs."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class RejectNulBytesMiddleware:
    """A NUL byte in the path or the query string answers 400 naming where it was.

    PostgreSQL text cannot hold NUL: left to reach a query, it would be a database error (a 500)
    instead of the client's mistake it is. Nothing legitimate in this hub carries one.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = self._offending_field(request)
        if field is not None:
            body = {field: ["NUL (0x00) bytes are not allowed."]}
            return HttpResponse(json.dumps(body), status=400, content_type="application/json")
        return self.get_response(request)

    @staticmethod
    def _offending_field(request: HttpRequest) -> str | None:
        if "\x00" in request.path:
            return "path"
        for name, values in request.GET.lists():
            if "\x00" in name:
                return "query"
            if any("\x00" in value for value in values):
                return name
        return None
