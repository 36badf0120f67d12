"""An in-process fake of RTE's Ecowatt v5 API, under ``/sim/flexready/ecowatt/``.

Faithful to RTE's Ecowatt v5 API documentation: a token endpoint
taking the client credentials as HTTP Basic (``token/oauth/``), answering
``{access_token, token_type: "Bearer", expires_in: 7199}``; ``open_api/ecowatt/v5/signals``
answering four local days (today to D+3) in an unordered list, ``jour`` at local midnight with
its offset and one ``{pas, hvalue}`` per hour of the local day (23 or 25 on DST days); a second
call within 15 minutes for the same client answers 429 with ``Retry-After`` in seconds. The
``sandbox/signals`` path answers the same shape without the limit.

Its levels follow a script keyed on the date, so the next four days always hold an orange day:
hours 0-5 are low-carbon (0), the rest normal (1); a day whose ordinal is a multiple of 3 is
orange (2) from 8h to 10h and 18h to 20h; from November to March a multiple of 7 is red (3) from
18h to 20h instead. Tests may replace the clock, the script and the limit through :data:`STATE`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from hub.clock import PARIS, hours_in_local_day, local_midnight

LIMIT = dt.timedelta(minutes=15)
TOKEN_LIFETIME = 7199
DAYS = 4
# The order the days are listed in: RTE does not sort them.
ORDER = (2, 0, 3, 1)
MESSAGES = {
    0: "Production décarbonée.",
    1: "Pas d'alerte.",
    2: "Système électrique tendu. Les écogestes sont les bienvenus.",
    3: "Système électrique très tendu. Coupures possibles sans baisse de la consommation.",
}

Script = Callable[[dt.date, int], int]


def scripted_level(day: dt.date, hour: int) -> int:
    """The level of local ``hour`` (0-23, wall clock) of ``day``."""
    winter = day.month in (11, 12, 1, 2, 3)
    if winter and day.toordinal() % 7 == 0 and 18 <= hour < 20:
        return 3
    if day.toordinal() % 3 == 0 and (8 <= hour < 10 or 18 <= hour < 20):
        return 2
    return 0 if hour < 6 else 1


@dataclass
class SimulatorState:
    clock: Callable[[], dt.datetime] = timezone.now
    script: Script = scripted_level
    rate_limit: bool = True
    calls: int = 0
    token_calls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def reset(self) -> None:
        self.clock = timezone.now
        self.script = scripted_level
        self.rate_limit = True
        self.calls = 0
        self.token_calls = 0
        self.extra.clear()


STATE = SimulatorState()


def _token_for(client_id: str) -> str:
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"ecowatt-sim:{client_id}".encode(), hashlib.sha256
    )
    return f"{client_id}.{mac.hexdigest()[:32]}"


def _client_of_token(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    client_id, _, _mac = token.strip().rpartition(".")
    if scheme.lower() != "bearer" or not client_id:
        return None
    return client_id if hmac.compare_digest(_token_for(client_id), token.strip()) else None


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    STATE.token_calls += 1
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    if (
        scheme.lower() != "basic"
        or not hmac.compare_digest(user, settings.ECOWATT_CLIENT_ID)
        or not hmac.compare_digest(password, settings.ECOWATT_CLIENT_SECRET)
    ):
        return JsonResponse({"error": "invalid_client"}, status=401)
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    return JsonResponse(
        {"access_token": _token_for(user), "token_type": "Bearer", "expires_in": TOKEN_LIFETIME}
    )


def _limited(client_id: str, now: dt.datetime) -> int:
    """Seconds to wait if this client called less than 15 minutes ago, else 0 (and record)."""
    key = f"flexready-sim-ecowatt:{client_id}"
    last = cache.get(key)
    if last is not None and now - last < LIMIT:
        return math.ceil((last + LIMIT - now).total_seconds())
    cache.set(key, now, timeout=int(LIMIT.total_seconds()))
    return 0


def _answer(request: HttpRequest, *, limited: bool) -> HttpResponse:
    STATE.calls += 1
    client_id = _client_of_token(request)
    if client_id is None:
        return JsonResponse({"error": "invalid_token"}, status=401)
    now = STATE.clock()
    if limited and STATE.rate_limit:
        wait = _limited(client_id, now)
        if wait:
            response = JsonResponse(
                {"error": "TOO_MANY_REQUESTS", "error_description": "requests too frequent"},
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    return HttpResponse(json.dumps(body_at(now)), content_type="application/json")


@csrf_exempt
@require_GET
def signals(request: HttpRequest) -> HttpResponse:
    return _answer(request, limited=True)


@csrf_exempt
@require_GET
def sandbox_signals(request: HttpRequest) -> HttpResponse:
    return _answer(request, limited=False)


def body_at(now: dt.datetime) -> dict[str, Any]:
    today = now.astimezone(PARIS).date()
    generated = local_midnight(today).astimezone(PARIS)
    days = [today + dt.timedelta(days=i) for i in range(DAYS)]
    return {"signals": [day_signal(days[i], generated_at=generated) for i in ORDER]}


def day_signal(day: dt.date, *, generated_at: dt.datetime) -> dict[str, Any]:
    midnight = local_midnight(day)
    values = []
    for pas in range(hours_in_local_day(day)):
        wall_hour = (midnight + dt.timedelta(hours=pas)).astimezone(PARIS).hour
        values.append({"pas": pas, "hvalue": STATE.script(day, wall_hour)})
    level = max([1, *(v["hvalue"] for v in values)])
    return {
        "GenerationFichier": generated_at.isoformat(),
        "jour": midnight.astimezone(PARIS).isoformat(),
        "dvalue": level,
        "message": MESSAGES[level],
        "values": values,
    }
