"""An in-process fake of EDF OA's Smart OA API, mounted under ``/sim/smartoa/``.

Faithful to EDF OA's Smart OA presentation to producers (webinar, 2025): one account and one token
per contract, an IP allow-list (403 outside it), the ``Effacement`` resource without parameters,
answering ``{id, update_date, application_date, data: [{start_date, end_date, value}]}`` with local
ISO 8601 offsets.

Its days follow a fixed script, so that a poller sees every situation within one day:

* day D is first published on D-1 at 12:55:05 with the seed's stop, 11:55-18:00;
* on D at 09:30 it changes (new ``update_date``): the stop ends at 16:00 and a second one runs
  19:00-20:00;
* the resource answers the most recently updated schedule published so far among today and
  tomorrow: today's until tomorrow's publication, tomorrow's after it.

Tokens: each account's token is derived from ``SECRET_KEY`` (so every web process agrees and the
demo contract can be seeded with it), unless a test registers another in :data:`STATE`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from hub.clock import PARIS
from hub.netaddr import address_allowed, client_ip

PUBLICATION_TIME = dt.time(12, 55, 5)
CHANGE_TIME = dt.time(9, 30)
FIRST_STOPS = ((dt.time(11, 55), dt.time(18, 0)),)
CHANGED_STOPS = ((dt.time(11, 55), dt.time(16, 0)), (dt.time(19, 0), dt.time(20, 0)))

# Faults a test can inject for one account.
MALFORMED = "malformed"  # a 200 whose body is not JSON
INVALID = "invalid"  # JSON, but periods that leave a hole in the day
SERVER_ERROR = "server_error"  # 503


@dataclass
class Account:
    contract_id: str
    token: str
    networks: list[str] | None = None  # None: settings.SMARTOA_SIM_ALLOWED_NETWORKS


@dataclass
class SimulatorState:
    """What tests may change: the simulator's clock, extra accounts, injected faults."""

    clock: Callable[[], dt.datetime] = timezone.now
    accounts: dict[str, Account] = field(default_factory=dict)
    faults: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    def reset(self) -> None:
        self.clock = timezone.now
        self.accounts.clear()
        self.faults.clear()
        self.calls = 0


STATE = SimulatorState()


def token_for(account_id: str) -> str:
    """The simulator's token for an account: ``<account>.<MAC>``, checkable by any process."""
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"smartoa-sim:{account_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]
    return f"{account_id}.{mac}"


def _account_by_token(token: str) -> tuple[str, Account] | None:
    for account_id, account in STATE.accounts.items():
        if hmac.compare_digest(account.token, token):
            return account_id, account
    account_id, _, _mac = token.rpartition(".")
    if account_id and hmac.compare_digest(token_for(account_id), token):
        # Derived accounts carry the contract id as their account id.
        return account_id, Account(contract_id=account_id, token=token)
    return None


def _account_by_basic(account_id: str, token: str) -> Account | None:
    account = STATE.accounts.get(account_id)
    if account is not None:
        return account if hmac.compare_digest(account.token, token) else None
    if hmac.compare_digest(token_for(account_id), token):
        return Account(contract_id=account_id, token=token)
    return None


def _authenticate(request: HttpRequest) -> tuple[str, Account] | None:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value:
        return _account_by_token(value.strip())
    if scheme.lower() == "basic" and value:
        try:
            user, _, password = base64.b64decode(value.strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        account = _account_by_basic(user, password)
        return (user, account) if account else None
    return None


@csrf_exempt  # an API called with tokens, never with a browser's cookies
@require_GET
def effacement(request: HttpRequest) -> HttpResponse:
    STATE.calls += 1
    found = _authenticate(request)
    if found is None:
        response = JsonResponse({"error": "unauthorized"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="smartoa"'
        return response
    account_id, account = found
    networks = account.networks
    if networks is None:
        networks = settings.SMARTOA_SIM_ALLOWED_NETWORKS
    if not address_allowed(client_ip(request), networks):
        # Guess: the seed gives no error body. A French message, JSON-escaped as Django's
        # JsonResponse (and many servers) write it, so the poller has to decode it.
        return JsonResponse(
            {"error": "forbidden", "detail": "Adresse IP non autorisée pour ce contrat"},
            status=403,
        )
    fault = STATE.faults.get(account_id)
    if fault == SERVER_ERROR:
        return JsonResponse({"error": "unavailable"}, status=503)
    if fault == MALFORMED:
        return HttpResponse(b'{"id": "', content_type="application/json")
    body = current_body(contract_id=account.contract_id, now=STATE.clock())
    if fault == INVALID:
        body["data"] = body["data"][1:]
    return HttpResponse(json.dumps(body), content_type="application/json")


def current_body(*, contract_id: str, now: dt.datetime) -> dict[str, Any]:
    """The answer at ``now``: the latest version published so far for today or tomorrow."""
    today = now.astimezone(PARIS).date()
    candidates = [
        (update, day, stops)
        for day in (today, today + dt.timedelta(days=1))
        for update, stops in versions_of(day)
        if update <= now
    ]
    update, day, stops = max(candidates)
    return body_for(contract_id=contract_id, day=day, update_date=update, stops=stops)


def versions_of(day: dt.date) -> list[tuple[dt.datetime, tuple[tuple[dt.time, dt.time], ...]]]:
    """The scripted versions of ``day``: (update date, stops as local times)."""
    published = _local(day - dt.timedelta(days=1), PUBLICATION_TIME)
    changed = _local(day, CHANGE_TIME)
    return [(published, FIRST_STOPS), (changed, CHANGED_STOPS)]


def body_for(
    *,
    contract_id: str,
    day: dt.date,
    update_date: dt.datetime,
    stops: tuple[tuple[dt.time, dt.time], ...],
) -> dict[str, Any]:
    """An ``Effacement`` answer: stops as 1.0 periods, the rest of the day as 0.0 periods."""
    cursor = _local(day, dt.time(0))
    end_of_day = _local(day + dt.timedelta(days=1), dt.time(0))
    data: list[dict[str, Any]] = []
    for start_time, end_time in stops:
        start, end = _local(day, start_time), _local(day, end_time)
        if start > cursor:
            data.append(_period(cursor, start, 0.0))
        data.append(_period(start, end, 1.0))
        cursor = end
    if cursor < end_of_day:
        data.append(_period(cursor, end_of_day, 0.0))
    return {
        "id": contract_id,
        "update_date": _text(update_date),
        "application_date": day.isoformat(),
        "data": data,
    }


def _local(day: dt.date, time: dt.time) -> dt.datetime:
    # Through UTC and back, so that the offset is the one in force at that instant.
    return dt.datetime.combine(day, time, tzinfo=PARIS).astimezone(dt.UTC).astimezone(PARIS)


def _text(instant: dt.datetime) -> str:
    return instant.astimezone(PARIS).isoformat(timespec="seconds")


def _period(start: dt.datetime, end: dt.datetime, value: float) -> dict[str, Any]:
    return {"start_date": _text(start), "end_date": _text(end), "value": value}
