"""The API's one error shape: RFC 9457 problem details (``application/problem+json``).

Every 4xx/5xx of ``/api/v1/…`` is ``{type, title, status, detail, instance}``, plus ``errors``
(``[{field, pointer, reason}]``) on a 400 and the extension members a kind carries (``held_by``,
``retry_after``…). ``type`` is ``about:blank`` for a plain HTTP status, else one of the hub's
own kinds below, each described at ``/api/v1/problems/<slug>``. Titles, details and reasons are
in the caller's language (``Accept-Language``, French by default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import exceptions
from rest_framework.settings import api_settings

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "/api/v1/problems/"


@dataclass(frozen=True)
class Kind:
    slug: str
    status: int
    title: Promise
    description: Promise

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.slug


INVALID_INPUT = Kind(
    "invalid-input",
    400,
    _("Données invalides"),
    _(
        "Une ou plusieurs valeurs de la requête sont refusées ; « errors » nomme chacune "
        "(field, pointer JSON) avec la raison."
    ),
)
HELD = Kind(
    "held",
    409,
    _("Ressource retenue"),
    _(
        "D'autres données dépendent de cette ressource (« held_by ») : terminez-les d'abord "
        "par leur propre parcours."
    ),
)
CONFLICT = Kind(
    "conflict",
    409,
    _("Conflit avec l'état de la ressource"),
    _(
        "La requête ne s'applique pas à l'état actuel de la ressource (déjà existante, "
        "déjà traitée)."
    ),
)
REFUSED = Kind(
    "refused",
    422,
    _("Demande refusée"),
    _("La demande est bien formée mais enfreint des règles métier, listées dans « reasons »."),
)
RATE_LIMITED = Kind(
    "rate-limited",
    429,
    _("Trop de requêtes"),
    _(
        "Le budget d'appels est épuisé ; réessayez après « retry_after » secondes (en-tête "
        "Retry-After ; RateLimit-* donnent le budget restant)."
    ),
)
DEPENDENCY_DOWN = Kind(
    "dependency-down",
    503,
    _("Service momentanément indisponible"),
    _(
        "Une dépendance (base de données, cache, file des tâches, fournisseur externe) ne "
        "répond pas ; rien n'a été fait, réessayez après Retry-After."
    ),
)

KINDS: dict[str, Kind] = {
    k.slug: k for k in (INVALID_INPUT, HELD, CONFLICT, REFUSED, RATE_LIMITED, DEPENDENCY_DOWN)
}

# The HTTP phrase of each plain status, in the caller's language (RFC 9457 §4.2.1).
TITLES: dict[int, Promise] = {
    400: _("Requête invalide"),
    401: _("Authentification requise"),
    403: _("Accès refusé"),
    404: _("Introuvable"),
    405: _("Méthode non autorisée"),
    406: _("Format de réponse non disponible"),
    409: _("Conflit"),
    413: _("Requête trop volumineuse"),
    415: _("Type de contenu non pris en charge"),
    422: _("Requête non traitable"),
    429: _("Trop de requêtes"),
    500: _("Erreur du serveur"),
    503: _("Service momentanément indisponible"),
}


def title_of(status: int) -> str:
    if status in TITLES:
        return str(TITLES[status])
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return str(status)


class Problem(exceptions.APIException):
    """Raised by a view to answer one problem: a kind (or a plain status) and its members."""

    def __init__(
        self,
        *,
        status: int | None = None,
        kind: Kind | None = None,
        detail: str | Promise = "",
        errors: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        self.status_code = status or (kind.status if kind else 400)
        self.kind = kind
        self.problem_detail = detail
        self.errors = errors
        self.headers = dict(headers or {})
        self.extensions = extensions
        super().__init__(str(detail) if detail else None)


# --- field errors -----------------------------------------------------------------------------

_PARTS = re.compile(r"[^.\[\]]+")
_NON_FIELD = {api_settings.NON_FIELD_ERRORS_KEY, "non_field_errors", "__all__"}


def _field(path: tuple[str, ...]) -> str | None:
    if not path:
        return None
    if len(path) == 1:
        return path[0]  # as the service or serializer named it ("power[0].power.value")
    name = path[0]
    for part in path[1:]:
        name += f"[{part}]" if part.isdigit() else f".{part}"
    return name


def pointer(path: Iterable[str]) -> str:
    """JSON Pointer (RFC 6901) as a URI fragment; a field written ``a[0].b`` is ``#/a/0/b``."""
    parts = [p for name in path for p in _PARTS.findall(name)]
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def field_error(path: tuple[str, ...], reason: Any, **extra: Any) -> dict[str, Any]:
    return {"field": _field(path), "pointer": pointer(path), "reason": str(reason), **extra}


def flatten(detail: Any, path: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A serializer's nested errors as one list: ``{"power": [{"start": [m]}]}`` is
    ``power[0].start`` at ``#/power/0/start``; ``non_field_errors`` belong to their parent."""
    if isinstance(detail, Mapping):
        found: list[dict[str, Any]] = []
        for key, value in detail.items():
            key = str(key)
            found += flatten(value, path if key in _NON_FIELD else (*path, key))
        return found
    if isinstance(detail, list | tuple):
        found = []
        for index, item in enumerate(detail):
            if isinstance(item, Mapping | list | tuple):
                found += flatten(item, (*path, str(index)))
            else:
                found.append(field_error(path, item))
        return found
    return [field_error(path, detail)]


# --- bodies and responses ---------------------------------------------------------------------


def body(
    *,
    status: int,
    instance: str,
    kind: Kind | None = None,
    detail: Any = "",
    errors: list[dict[str, Any]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    if kind is None and status == 400:
        kind = INVALID_INPUT
    if kind is None and status == 429:
        kind = RATE_LIMITED
    title = str(kind.title) if kind else title_of(status)
    if status == 400 and not errors:
        errors = [field_error((), detail or title)]
    if status == 400 and not detail:
        detail = invalid_detail(errors or [])
    problem: dict[str, Any] = {
        "type": kind.type if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": str(detail) if detail else title,
        "instance": instance,
    }
    if errors:
        problem["errors"] = errors
    problem.update(extensions)
    return problem


def invalid_detail(errors: list[dict[str, Any]]) -> str:
    if len(errors) == 1:
        first = errors[0]
        where = first["field"] or translation.gettext("requête")
        return translation.gettext("%(field)s : %(reason)s") % {
            "field": where,
            "reason": first["reason"],
        }
    return ngettext(
        "%(count)d valeur est invalide : voir « errors ».",
        "%(count)d valeurs sont invalides : voir « errors ».",
        len(errors),
    ) % {"count": len(errors)}


class ProblemResponse(HttpResponse):
    """A problem as a plain response: content negotiation (CSV, Arrow…) never renders it."""

    def __init__(self, problem: dict[str, Any], *, headers: Mapping[str, str] | None = None):
        super().__init__(
            json.dumps(problem, ensure_ascii=False),
            status=problem["status"],
            content_type=CONTENT_TYPE,
            headers=dict(headers or {}),
        )
        self.data = problem  # what a DRF Response would expose


def respond(request: HttpRequest, **members: Any) -> ProblemResponse:
    """A problem answered outside a DRF view (middleware, handler404/500), in the caller's
    language: these may run before ``LocaleMiddleware`` has chosen it."""
    headers = members.pop("headers", None)
    with translation.override(translation.get_language_from_request(request)):
        return ProblemResponse(body(instance=request.path, **members), headers=headers)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def kind_page(request: HttpRequest, slug: str) -> HttpResponse:
    """``/api/v1/problems/<slug>``: what a problem type means, as JSON."""
    kind = KINDS.get(slug)
    if kind is None:
        raise Http404
    return HttpResponse(
        json.dumps(
            {
                "type": kind.type,
                "title": str(kind.title),
                "status": kind.status,
                "description": str(kind.description),
            },
            ensure_ascii=False,
        ),
        content_type="application/json",
    )
