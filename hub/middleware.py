"""Request hygiene shared by every app, before any view runs."""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


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
            from hub.api.problems import field_error, is_api, respond

            reason = _("Les octets NUL (0x00) ne sont pas acceptés.")
            if is_api(request):
                return respond(request, status=400, errors=[field_error((field,), reason)])
            body = {field: [str(reason)]}
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


class RequestSizeLimitMiddleware:
    """A body larger than the hub accepts answers 413 before anything reads it.

    Django reads exactly ``Content-Length`` bytes of a WSGI body (none without it), so checking
    the header caps what any later code can read. File uploads (multipart) may be up to
    ``HUB_MAX_REQUEST_BYTES``: Django streams their files to disk in chunks. Any other body is
    read into memory by the parsers, so it may be at most ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(request, 400, _("Content-Length n'est pas un nombre."))
        multipart = request.content_type == "multipart/form-data"
        limit = int(
            settings.HUB_MAX_REQUEST_BYTES if multipart else settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        )
        if length > limit:
            return _error(
                request,
                413,
                _("Corps de requête trop volumineux : %(limit)d octets au plus."),
                limit=limit,
            )
        return self.get_response(request)


def _error(request: HttpRequest, status: int, text: Promise, **params: int) -> HttpResponse:
    from hub.api.problems import is_api, respond
    from hub.errors import wants_json

    # Before LocaleMiddleware: the caller's language, chosen here.
    with translation.override(translation.get_language_from_request(request)):
        message = str(text) % params if params else str(text)
    if is_api(request):
        return respond(request, status=status, detail=message)
    if wants_json(request):
        body = json.dumps({"detail": message})
        return HttpResponse(body, status=status, content_type="application/json")
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
