"""Answers for failures that are not the code's fault: a dependency down (503), a row held (409).

``ServiceErrorsMiddleware`` turns them into responses when a view raises; ``server_error`` (the
project's ``handler500``) does the same for what escapes elsewhere (a middleware reading the
session while the database is down). API paths answer JSON, the portal a short French page.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable

import kombu.exceptions
import redis.exceptions
from django.db import InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.api.problems import DEPENDENCY_DOWN, HELD, is_api, respond

RETRY_AFTER_SECONDS = 30

# Which dependency each exception means: the message names it, /readyz tells the rest.
OUTAGES: tuple[tuple[tuple[type[BaseException], ...], str, Promise], ...] = (
    (
        (OperationalError, InterfaceError),
        "database",
        _("La base de données est momentanément indisponible ; réessayez dans un instant."),
    ),
    (
        (kombu.exceptions.OperationalError,),
        "broker",
        _(
            "La file des tâches est momentanément indisponible : l'action n'a pas été lancée ; "
            "réessayez dans un instant."
        ),
    ),
    (
        (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError),
        "cache",
        _("Le cache partagé est momentanément indisponible ; réessayez dans un instant."),
    ),
)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _page(title: str | Promise, text: str | Promise, status: int) -> HttpResponse:
    # Self-contained: rendering the portal's base template could need the database.
    body = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{escape(str(title))}</title></head><body><h1>{escape(str(title))}</h1>"
        f'<p>{escape(str(text))}</p><p><a href="/">Retour au tableau de bord</a></p></body></html>'
    )
    return HttpResponse(body, status=status, content_type="text/html; charset=utf-8")


def unavailable(request: HttpRequest, *, dependency: str, message: str | Promise) -> HttpResponse:
    if is_api(request):
        return respond(
            request,
            status=503,
            kind=DEPENDENCY_DOWN,
            detail=message,
            unavailable=dependency,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if wants_json(request):
        response = HttpResponse(
            json.dumps({"detail": str(message), "unavailable": dependency}),
            status=503,
            content_type="application/json",
        )
    else:
        response = _page(_("Service momentanément indisponible"), message, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def held_by(exc: ProtectedError | RestrictedError) -> list[str]:
    """Names of what holds a row: "compteur TIC (2)", from the blocking objects' models."""
    objects: Iterable[object] = (
        exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    )
    counts: dict[str, int] = {}
    for obj in objects:
        name = str(obj._meta.verbose_name)  # type: ignore[attr-defined]
        counts[name] = counts.get(name, 0) + 1
    return [f"{name} ({count})" for name, count in sorted(counts.items())]


def conflict(request: HttpRequest, exc: ProtectedError | RestrictedError) -> HttpResponse:
    holders = held_by(exc)
    message = gettext("Suppression impossible : des données y sont rattachées : %(holders)s") % {
        "holders": ", ".join(holders)
    }
    if is_api(request):
        return respond(request, status=409, kind=HELD, detail=message, held_by=holders)
    if wants_json(request):
        return HttpResponse(
            json.dumps({"detail": message, "held_by": holders}),
            status=409,
            content_type="application/json",
        )
    return _page(_("Suppression impossible"), message, 409)


def response_for(request: HttpRequest, exc: BaseException) -> HttpResponse | None:
    if isinstance(exc, ProtectedError | RestrictedError):
        return conflict(request, exc)
    for types, dependency, message in OUTAGES:
        if isinstance(exc, types):
            return unavailable(request, dependency=dependency, message=message)
    return None


class ServiceErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return response_for(request, exception)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: a problem under /api/ (no portal template, which needs the database)."""
    if is_api(request):
        return respond(request, status=404)
    if wants_json(request):
        return HttpResponse(
            json.dumps({"detail": "Not found."}), status=404, content_type="application/json"
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Exception())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: Django's refusals of a request (too many fields, a body bigger than
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``...) in the API's JSON, and 413 for a body too large."""
    from django.core.exceptions import RequestDataTooBig

    status = 413 if isinstance(exception, RequestDataTooBig) else 400
    message = "Request body too large." if status == 413 else "Bad request."
    if is_api(request):
        return respond(request, status=status)
    if wants_json(request):
        return HttpResponse(
            json.dumps({"detail": message}), status=status, content_type="application/json"
        )
    if status == 413:
        return _page(
            "Requête trop volumineuse",
            "Le fichier ou le formulaire envoyé est trop volumineux.",
            413,
        )
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception or Exception())


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: what no view or middleware answered. Called inside Django's ``except``."""
    exc = sys.exc_info()[1]
    if exc is not None:
        response = response_for(request, exc)
        if response is not None:
            return response
    if is_api(request):
        return respond(request, status=500, detail=_("Erreur du serveur ; elle a été journalisée."))
    if wants_json(request):
        return HttpResponse(
            json.dumps({"detail": "Server error; it has been logged."}),
            status=500,
            content_type="application/json",
        )
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)
