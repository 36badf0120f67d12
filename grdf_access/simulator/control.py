"""The simulator's control endpoints under ``/sim/grdf/_sim/``: what a test or the portal demo
does in place of the holder, of GRDF's back office or of time (the function twins are in
``grdf_access.simulator``)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from grdf_access.simulator import rights, state
from grdf_access.simulator.rights import RuleError
from grdf_access.simulator.views import MALFORMED, PRETTY, RETRYABLE, _processing


@csrf_exempt
def counters(request: HttpRequest) -> HttpResponse:
    return JsonResponse(state.counters())


@csrf_exempt
def reset(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    state.reset()
    return JsonResponse({"reset": True})


def _control_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


@csrf_exempt
def clock(request: HttpRequest) -> HttpResponse:
    """POST ``{"now": "2026-11-22T10:00:00+01:00"}`` pins the clock; ``{"now": null}`` frees it."""
    if request.method == "POST":
        text = _control_body(request).get("now")
        try:
            instant = dt.datetime.fromisoformat(text) if text else None
            state.set_now(instant)
        except (TypeError, ValueError):
            return JsonResponse(
                {"error": "now must be an ISO 8601 instant with an offset"}, status=400
            )
    return JsonResponse({"now": state.now().isoformat()})


@csrf_exempt
def throttle(request: HttpRequest) -> HttpResponse:
    """POST ``{"count": 2, "retry_after": 1}``: the next ``count`` API calls answer 429."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    body = _control_body(request)
    try:
        count, retry_after = int(body.get("count", 1)), int(body.get("retry_after", 1))
    except (TypeError, ValueError):
        return JsonResponse({"error": "count and retry_after must be integers"}, status=400)
    state.put("throttle", {"remaining": count, "retry_after": retry_after})
    return JsonResponse({"remaining": count, "retry_after": retry_after})


_ACTIONS: dict[str, Callable[[str, dt.datetime], dict[str, Any]]] = {
    "valider": lambda i, now: rights.validate(i, now=now),
    "refuser": lambda i, now: rights.refuse(i, now=now),
    "revoquer": lambda i, now: rights.revoke_by_holder(i, now=now),
    "obsolete": lambda i, now: rights.make_obsolete(i, now=now),
    "demander_preuves": lambda i, now: rights.request_proofs(i, now=now),
    "preuves_ok": lambda i, now: rights.settle_proofs(i, accepted=True),
    "preuves_ko": lambda i, now: rights.settle_proofs(i, accepted=False),
}


@csrf_exempt
def act_on_right(request: HttpRequest, right_id: str, action: str = "") -> HttpResponse:
    """GET: the stored right (private fields kept); POST ``…/<action>``: the holder or GRDF acts."""
    now = state.now()
    if not action:
        stored = state.get(f"right:{right_id}")
        if stored is None:
            return JsonResponse({"error": "unknown right"}, status=404)
        return JsonResponse(
            rights.effective(stored, now), json_dumps_params={"ensure_ascii": False}
        )
    if request.method != "POST" or action not in _ACTIONS:
        return JsonResponse({"error": f"POST one of {sorted(_ACTIONS)}"}, status=405)
    try:
        right = _ACTIONS[action](str(right_id), now)
    except RuleError as error:
        return _processing(error.status, error.code, error.message)
    return JsonResponse(
        rights.public(rights.effective(right, now)), json_dumps_params={"ensure_ascii": False}
    )


@csrf_exempt
def fault(request: HttpRequest, pce: str) -> HttpResponse:
    """POST ``{"kind": "retryable"|"pretty"|"malformed", "times": 1}`` for one PCE."""
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    body = _control_body(request)
    kind = body.get("kind")
    if kind not in (RETRYABLE, PRETTY, MALFORMED, None):
        return JsonResponse({"error": "unknown kind"}, status=400)
    if kind is None:
        state.delete(f"fault:{pce}")
    else:
        state.put(f"fault:{pce}", {"kind": kind, "remaining": int(body.get("times", 1))})
    return JsonResponse({"pce": pce, "kind": kind})
