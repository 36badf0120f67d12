"""Every failure of the token API answers one problem (``hub.api.problems``), never a 500 for
bad input: 400 naming each field and its reason, a held row 409, a spent budget 429."""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from hub.api import problems
from hub.errors import held_by
from hub.tenancy import NoOrganisation


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return exceptions.ValidationError(detail)
    if isinstance(exc, DataError):
        # A value the database cannot hold (out of range, NUL byte in a JSON string...): the
        # client's input, so a 400; the statement failed and stored nothing.
        return exceptions.ValidationError(
            {"non_field_errors": [_("Une valeur n'est pas stockable.")]}
        )
    if isinstance(exc, NoOrganisation):
        return exceptions.PermissionDenied(_("Vous n'appartenez à aucune organisation."))
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", None)
    if isinstance(field, str) and isinstance(reason, str | Promise):
        # Domain errors of the services carry (field, reason): a client mistake, so 400.
        return exceptions.ValidationError({field: [str(reason)]})
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> problems.ProblemResponse | None:
    request = context["request"]
    instance = request.path
    if isinstance(exc, ProtectedError | RestrictedError):
        # Something still holds the row: the caller must end that first, through its own flow.
        return problems.ProblemResponse(
            problems.body(
                status=409,
                kind=problems.HELD,
                instance=instance,
                detail=_("Suppression impossible : d'autres données en dépendent."),
                held_by=held_by(exc),
            )
        )
    exc = _as_api_exception(exc)
    if isinstance(exc, problems.Problem):
        set_rollback()
        return problems.ProblemResponse(
            problems.body(
                status=exc.status_code,
                kind=exc.kind,
                instance=instance,
                detail=exc.problem_detail,
                errors=exc.errors,
                **exc.extensions,
            ),
            headers=exc.headers,
        )
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not the client's doing: handler500 / ServiceErrorsMiddleware answer
    status = response.status_code
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After")}
    extensions: dict[str, Any] = {}
    errors = None
    detail: Any = getattr(exc, "detail", "")
    if isinstance(exc, exceptions.ValidationError):
        errors = problems.flatten(exc.detail)
        detail = problems.invalid_detail(errors)
    elif status == 400:
        errors = [problems.field_error((), detail)]
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None) or 1
        extensions["retry_after"] = max(math.ceil(wait), 1)
        headers["Retry-After"] = str(extensions["retry_after"])
    return problems.ProblemResponse(
        problems.body(status=status, instance=instance, detail=detail, errors=errors, **extensions),
        headers=headers,
    )
