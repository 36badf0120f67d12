"""Certification sessions and their journal: every call with its request, response and time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.http import HttpRequest

from flexready.models import ID_MAX, CertificationSession, JournalEntry
from hub.models import Organisation

BODY_LIMIT = 64_000
# A header whose name contains one of these words carries a credential: its value is masked
# before it is stored (and so before the PDF report), whatever its prefix (``EMULATOR_``, ``X-``).
SECRET_WORDS = (
    "authorization",
    "cookie",
    "csrf",
    "token",
    "secret",
    "password",
    "passwd",
    "api-key",
    "apikey",
    "api_key",
    "credential",
    "signature",
    "session",
    "auth",
)


class BadSessionId(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"session_id: {reason}")
        self.field = "session_id"
        self.reason = reason


def session_for(
    *, organisation: Organisation, session_id: str, now: dt.datetime, created_by: str
) -> CertificationSession:
    """The organisation's session with this id, created on first use.

    Session ids are scoped to the organisation: one that another organisation already uses is,
    for this one, an id never seen (its own session, created on first use), so the answer says
    nothing about other organisations' sessions and never reaches their journal.
    """
    if not session_id or len(session_id) > ID_MAX:
        raise BadSessionId(f"1 to {ID_MAX} characters")
    found = CertificationSession.objects.filter(
        organisation=organisation, session_id=session_id
    ).first()
    if found is None:
        try:
            with transaction.atomic():
                found = CertificationSession.objects.create(
                    organisation=organisation,
                    session_id=session_id,
                    created_at=now,
                    created_by=created_by[:200],
                )
        except IntegrityError:  # created meanwhile by a concurrent first call
            found = CertificationSession.objects.get(
                organisation=organisation, session_id=session_id
            )
    return found


def header_items(request: HttpRequest) -> dict[str, str]:
    """The request's headers, secrets masked (an ``EMULATOR_Authorization`` included)."""
    return {name: mask_header(name, value) for name, value in request.headers.items()}


def is_secret_header(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SECRET_WORDS)


def mask_header(name: str, value: str) -> str:
    """``***`` for a credential-like header; an auth scheme (``Bearer``, ``Basic``) stays shown."""
    if not is_secret_header(name):
        return value
    scheme = value.split(" ", 1)[0] if " " in value.strip() else ""
    if scheme and not scheme.isalpha():
        scheme = ""
    return f"{scheme} ***".strip()


def emulator_headers(request: HttpRequest) -> dict[str, str]:
    """``EMULATOR_*`` headers (WSGI turns them into ``HTTP_EMULATOR_*``), secrets masked."""
    masked = header_items(request)
    return {
        name: value
        for name, value in masked.items()
        if name.lower().replace("-", "_").startswith("emulator_")
    }


def record_call(
    *,
    session: CertificationSession,
    at: dt.datetime,
    duration_ms: float,
    request: HttpRequest,
    body: bytes,
    caller: str,
    status: int,
    response_body: bytes,
    content_type: str,
) -> JournalEntry:
    shown = (
        response_body[:BODY_LIMIT].decode("utf-8", errors="replace")
        if content_type.startswith(("application/json", "text/", "application/problem"))
        else f"<{content_type}, {len(response_body)} bytes>"
    )
    return JournalEntry.objects.create(
        session=session,
        at=at,
        duration_ms=round(duration_ms, 3),
        method=request.method or "",
        path=_storable(request.get_full_path()[:500]),
        caller=_storable(caller[:200]),
        request_headers={
            _storable(name): _storable(value) for name, value in header_items(request).items()
        },
        request_body=_storable(body[:BODY_LIMIT].decode("utf-8", errors="replace")),
        status=status,
        response_body=_storable(shown),
    )


def _storable(text: str) -> str:
    # The journal keeps what was sent, even a NUL byte a client put in a body; PostgreSQL text
    # cannot hold it, so it is kept as U+FFFD rather than losing the whole entry.
    return text.replace("\x00", "\ufffd")


def summary(session: CertificationSession) -> Mapping[str, object]:
    entries = list(session.entries.all())
    by_status: dict[str, int] = {}
    for entry in entries:
        family = f"{entry.status // 100}xx"
        by_status[family] = by_status.get(family, 0) + 1
    return {
        "calls": len(entries),
        "by_status": dict(sorted(by_status.items())),
        "first": entries[0].at if entries else None,
        "last": entries[-1].at if entries else None,
        "requests": {
            status: session.requests.filter(status=status).count()
            for status in session.requests.values_list("status", flat=True).distinct()
        },
    }
