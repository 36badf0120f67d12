"""The errors the ADICT client raises, and how GRDF's answers map to them (ref §1.7)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import httpx

from grdf_access.client.wire import SUCCESS_CODES, _date, _fold


class AdictError(Exception):
    """Base of every error this client raises besides ``hub.http.ProviderError``.

    ``code``/``message`` are GRDF's (``statut_restitution`` or ``code_statut_traitement``),
    ``http_status`` the answer's status (200 for functional errors), ``pce``/``period`` what the
    call was about when known.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        http_status: int = 200,
        pce: str = "",
        period: tuple[dt.date, dt.date] | None = None,
    ) -> None:
        super().__init__(f"GRDF ADICT {code or http_status}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.pce = pce
        self.period = period


class AdictResponseError(AdictError):
    """A 2xx answer this client cannot read (not JSON, missing fields)."""


class FunctionalError(AdictError):
    """A functional refusal (``statut_restitution`` with HTTP 200, or a coded 4xx)."""


class AccessDeniedError(FunctionalError):
    """No right; right not active, expired or revoked; holder moved out (1000000-2, 1000014)."""


class ScopeError(FunctionalError):
    """The right does not cover the asked type or period ("Le périmètre … ne couvre pas …")."""


class NoDataError(FunctionalError):
    """ "Il n'y a pas de données" (1000008). Data methods report it in ``Records.problems``."""


class RetryableError(FunctionalError):
    """GRDF asks to call again for the period (2000100); raised once the retries ran out."""


class BadRequestError(FunctionalError):
    """HTTP 400: a parameter GRDF refused (PCE format, dates, ``periode``)."""


class NotFoundError(FunctionalError):
    """HTTP 404: unknown PCE or access right."""


class ConflictError(FunctionalError):
    """HTTP 409: right already exists, postcode mismatch, contract expired, no proof asked…"""


class TechnicalError(AdictError):
    """GRDF reported a technical failure inside an answer (e.g. a stream cut, 2000000001)."""


class AuthenticationError(AdictError):
    """The token endpoint refused the client credentials or the scope."""


class ProofLimitError(BadRequestError):
    """Proof files beyond GRDF's limits (3 files, 4 MB each), refused before sending."""


# --------------------------------------------------------------------------------------------
# Errors from answers
# --------------------------------------------------------------------------------------------

# Code → error class (ref §1.7; the data codes are PO2's [2nd]).
_CODE_ERRORS: dict[str, type[FunctionalError]] = {
    "1000000": AccessDeniedError,
    "1000001": AccessDeniedError,
    "1000002": AccessDeniedError,
    "1000014": AccessDeniedError,
    "1000008": NoDataError,
    "1000009": ScopeError,
    "1000010": ScopeError,
    "2000100": RetryableError,
}
# When a code is unknown, the message decides (SPEC-1.6 200 descriptions).
_MESSAGE_ERRORS: tuple[tuple[str, type[FunctionalError]], ...] = (
    ("veuillez retenter", RetryableError),
    ("il n'y a pas de donnees", NoDataError),
    ("ne couvre pas", ScopeError),
    ("perimetre", ScopeError),
    ("pas autorise", AccessDeniedError),
    ("droit d'acces", AccessDeniedError),
)
_STATUS_ERRORS: dict[int, type[FunctionalError]] = {
    400: BadRequestError,
    401: AccessDeniedError,
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
}


def error_for(
    code: str,
    message: str,
    http_status: int,
    *,
    pce: str = "",
    period: tuple[dt.date, dt.date] | None = None,
) -> AdictError:
    """The typed error for a GRDF code/message and HTTP status."""
    cls = _STATUS_ERRORS.get(http_status) if http_status != 200 else None
    if cls is None:
        cls = _CODE_ERRORS.get(code)
    if cls is None:
        folded = _fold(message)
        cls = next((c for text, c in _MESSAGE_ERRORS if text in folded), None)
    if cls is None:
        # GRDF's codes starting with 2 are technical failures on its side (ref §1.7).
        return (TechnicalError if code.startswith("2") else FunctionalError)(
            message, code=code, http_status=http_status, pce=pce, period=period
        )
    return cls(message, code=code, http_status=http_status, pce=pce, period=period)


def _http_error(response: httpx.Response, *, pce: str) -> AdictError:
    code, message = "", response.reason_phrase
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if isinstance(data, dict):
        status = data.get("statut_restitution")
        if isinstance(status, dict):
            code = str(status.get("code") or "")
            message = str(status.get("message") or message)
        else:
            code = str(data.get("code_statut_traitement") or data.get("code") or "")
            message = str(data.get("message_retour_traitement") or data.get("message") or message)
    return error_for(code, message, response.status_code, pce=pce)


def _restitution_error(obj: Mapping[str, Any], *, pce: str) -> AdictError | None:
    status = obj.get("statut_restitution")
    if not isinstance(status, dict) or not (status.get("code") or status.get("message")):
        return None
    code = str(status.get("code") or "")
    if code in SUCCESS_CODES:
        return None
    period = _period_of(obj.get("periode"))
    return error_for(code, str(status.get("message") or ""), 200, pce=pce, period=period)


def _raise_for_restitution(
    data: Mapping[str, Any], *, pce: str, period: tuple[dt.date, dt.date] | None
) -> None:
    error = _restitution_error(data, pce=pce)
    if error is not None:
        raise error
    code = data.get("code_statut_traitement")
    if code and str(code) not in SUCCESS_CODES and not data.get("id_droit_acces"):
        message = str(data.get("message_retour_traitement") or "")
        raise error_for(str(code), message, 200, pce=pce, period=period)


def _raise_for_status_line(status: Mapping[str, Any] | None, *, pce: str) -> None:
    """A stream whose processing status is not a success was cut short: raise, do not
    return a partial answer as if it were complete."""
    if status is None:
        return
    code = str(status.get("code_statut_traitement") or "")
    if code and code not in SUCCESS_CODES:
        raise error_for(code, str(status.get("message_retour_traitement") or ""), 200, pce=pce)


def _period_of(value: Any) -> tuple[dt.date, dt.date] | None:
    if not isinstance(value, dict):
        return None
    first, last = _date(value.get("date_debut")), _date(value.get("date_fin"))
    if first is None or last is None:
        return None
    return first, last
