"""An in-process fake of the supplier API of Flex Ready Annex 2, under ``/sim/flexready/supplier/``.

* ``GET sessions/{session_id}/suppliers/commodity/prices?delivery_point=&start_date=&end_date=``
  answers the signal of ``delivery_point`` (which must be format-valid: 14 digits), or the
  default signal when none was uploaded for it, cut to ``[start_date, end_date)``. With no
  upload at all, the default is a built-in quarter-hourly signal generated for the window, so
  that a hub on the embedded defaults shows signals flowing.
* ``POST admin/signals[?delivery_point=]`` with a ``signal_file`` (multipart, or the JSON as the
  body) adds a signal for that delivery point, or the default one without it; the signal it
  replaces is archived (kept, no longer served).

* ``GET auth/login`` answers, as Annex 2 says, "a JSON object containing a link to be redirected
  to the Identity provider"; ``POST auth/token`` is that provider's OIDC token endpoint for the
  client-credentials grant (HTTP Basic ``FLEXREADY_SUPPLIER_CLIENT_ID:…_SECRET``), issuing
  tokens valid ``TOKEN_LIFETIME`` seconds.

Calls need ``Authorization: Bearer <token>``: a token of ``auth/token`` must be unexpired;
any other token is accepted (guess: the real provider's signing keys are not known here). The
admin upload needs the admin token :func:`admin_token`, derived from ``SECRET_KEY`` so that
every process agrees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import math
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from flexready.market.client.supplier import SupplierSignalError, parse_signal
from flexready.market.models import SimulatedSignal
from hub.clock import PARIS
from hub.units import triplet

STEP = dt.timedelta(minutes=15)
MAX_WINDOW = dt.timedelta(days=31)
PRM_DIGITS = 14
TOKEN_LIFETIME = 300  # seconds: short, so that renewal is exercised on the embedded defaults
TOKEN_PREFIX = "suppliersim."  # noqa: S105 - a marker, not a secret


def admin_token() -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"flexready-supplier-sim:admin", hashlib.sha256
    ).hexdigest()[:32]


def _bearer(request: HttpRequest) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _error(status: int, field: str, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason, "field": field}, status=status)


def _delivery_point(value: str | None) -> str | None:
    value = (value or "").strip()
    return value if len(value) == PRM_DIGITS and value.isdigit() else None


def _instant(value: str | None) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat((value or "").strip().replace(" ", "+"))
    except ValueError:
        return None
    if parsed.utcoffset() is None:  # a bare date or local time: Paris
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(dt.UTC)


def _signature(payload: str) -> str:
    key = f"flexready-supplier-sim:token:{settings.SECRET_KEY}".encode()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def issue_token(*, client_id: str, now: dt.datetime) -> str:
    payload = f"{client_id}.{int(now.timestamp()) + TOKEN_LIFETIME}"
    return f"{TOKEN_PREFIX}{payload}.{_signature(payload)}"


def token_refusal(token: str, *, now: dt.datetime) -> str | None:
    """Why a bearer token is refused, or None; tokens not issued here are accepted (guess)."""
    if not token:
        return "a Bearer token is required"
    if not token.startswith(TOKEN_PREFIX):
        return None
    payload, _, signature = token[len(TOKEN_PREFIX) :].rpartition(".")
    if not hmac.compare_digest(signature, _signature(payload)):
        return "invalid token"
    expires = payload.rpartition(".")[2]
    if not expires.isdigit() or int(expires) <= now.timestamp():
        return "expired token"
    return None


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Annex 2's ``/auth/login``: where to authenticate (here, the token endpoint)."""
    token_url = request.build_absolute_uri("token")
    return JsonResponse({"login_url": token_url, "token_endpoint": token_url})


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """OIDC token endpoint, client-credentials grant, client authenticated by HTTP Basic."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    try:
        client_id, _, client_secret = base64.b64decode(value.strip()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        client_id, client_secret = "", ""
    if (
        scheme.lower() != "basic"
        or not settings.FLEXREADY_SUPPLIER_CLIENT_SECRET
        or not hmac.compare_digest(client_id, settings.FLEXREADY_SUPPLIER_CLIENT_ID)
        or not hmac.compare_digest(client_secret, settings.FLEXREADY_SUPPLIER_CLIENT_SECRET)
    ):
        return JsonResponse({"error": "invalid_client"}, status=401)
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    return JsonResponse(
        {
            "access_token": issue_token(client_id=client_id, now=timezone.now()),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
        }
    )


@csrf_exempt
@require_GET
def prices(request: HttpRequest, session_id: str) -> HttpResponse:
    refusal = token_refusal(_bearer(request), now=timezone.now())
    if refusal:
        return _error(401, "Authorization", refusal)
    delivery_point = _delivery_point(request.GET.get("delivery_point"))
    if delivery_point is None:
        return _error(400, "delivery_point", "must be 14 digits")
    start = _instant(request.GET.get("start_date"))
    end = _instant(request.GET.get("end_date"))
    if start is None:
        return _error(400, "start_date", "not an ISO 8601 date-time")
    if end is None:
        return _error(400, "end_date", "not an ISO 8601 date-time")
    if end <= start or end - start > MAX_WINDOW:
        return _error(400, "end_date", f"after start_date and at most {MAX_WINDOW.days} days on")
    stored = current_signal(delivery_point) or current_signal("")
    body = (
        window_of(stored.body, start=start, end=end)
        if stored
        else default_signal(start=start, end=end)
    )
    return JsonResponse(body)


def current_signal(delivery_point: str) -> SimulatedSignal | None:
    return SimulatedSignal.objects.filter(
        delivery_point=delivery_point, archived_at__isnull=True
    ).first()


def window_of(body: dict[str, Any], *, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """The uploaded signal's steps whose horodate lies in ``[start, end)``."""
    keep = [
        i
        for i, text in enumerate(body["horodate"])
        if start <= dt.datetime.fromisoformat(text).astimezone(dt.UTC) < end
    ]
    return {
        name: [body[name][i] for i in keep] for name in ("step", "horodate", "power", "cost", "co2")
    }


def default_signal(*, start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """A plausible quarter-hourly signal: dearer, more carbon-intensive evening peaks."""
    first = start + (-(start - dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) % STEP)
    steps: dict[str, list[Any]] = {n: [] for n in ("step", "horodate", "power", "cost", "co2")}
    at = first
    while at < end:
        local = at.astimezone(PARIS)
        hour = local.hour + local.minute / 60
        peak = math.exp(-(((hour - 19) / 1.6) ** 2)) + 0.6 * math.exp(-(((hour - 8.5) / 1.2) ** 2))
        night = 1 if hour < 6 else 0
        steps["step"].append(len(steps["step"]) + 1)
        steps["horodate"].append(local.isoformat())
        steps["power"].append(triplet(round(120 - 40 * night, 1), "W", "k"))
        steps["cost"].append(triplet(round(0.11 + 0.14 * peak - 0.03 * night, 4), "€/kWh", ""))
        steps["co2"].append(triplet(round(32 + 48 * peak - 8 * night, 1), "gCO2eq/kWh", ""))
        at += STEP
    return steps


@csrf_exempt
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    if not hmac.compare_digest(_bearer(request), admin_token()):
        return _error(401, "Authorization", "the admin token is required")
    raw_point = request.GET.get("delivery_point")
    delivery_point = ""
    if raw_point:
        checked = _delivery_point(raw_point)
        if checked is None:
            return _error(400, "delivery_point", "must be 14 digits")
        delivery_point = checked
    upload_file = request.FILES.get("signal_file")
    content = upload_file.read() if upload_file is not None else request.body
    if not content:
        return _error(400, "signal_file", "missing")
    try:
        data = json.loads(content)
        if not isinstance(data, dict):
            raise SupplierSignalError("body", "not a JSON object")
        signal = parse_signal(data)
    except ValueError as exc:
        field = exc.field if isinstance(exc, SupplierSignalError) else "signal_file"
        reason = exc.reason if isinstance(exc, SupplierSignalError) else "not JSON"
        return _error(400, f"signal_file.{field}", reason)
    now = timezone.now()
    with transaction.atomic():
        archived = SimulatedSignal.objects.filter(
            delivery_point=delivery_point, archived_at__isnull=True
        ).update(archived_at=now)
        SimulatedSignal.objects.create(delivery_point=delivery_point, body=data, uploaded_at=now)
    return JsonResponse(
        {
            "status": "added",
            "delivery_point": delivery_point or None,
            "default": not delivery_point,
            "steps": len(signal.points),
            "archived": archived,
        },
        status=201,
    )
