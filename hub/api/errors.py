"""Bad input answers 400 naming the field and the reason, a held row 409, never 500."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from hub.errors import held_by
from hub.tenancy import NoOrganisation


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ProtectedError | RestrictedError):
        # Something still holds the row: the caller must end that first, through its own flow.
        holders = held_by(exc)
        return Response(
            {"detail": "Cannot delete: other records depend on it.", "held_by": holders},
            status=409,
        )
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DataError):
        # A value the database cannot hold (out of range, NUL byte in a JSON string...): the
        # client's input, so a 400; the statement failed and stored nothing.
        exc = exceptions.ValidationError({"non_field_errors": ["A value is not storable."]})
    elif isinstance(exc, NoOrganisation):
        exc = exceptions.PermissionDenied("You belong to no organisation.")
    field = getattr(exc, "field", None)
    reason = getattr(exc, "reason", None)
    if isinstance(field, str) and isinstance(reason, str):
        # Domain errors of the services carry (field, reason): a client mistake, so 400.
        exc = exceptions.ValidationError({field: [reason]})
    return drf_exception_handler(exc, context)
