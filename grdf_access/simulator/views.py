"""HTTP face of the simulator: GRDF's token endpoint, ADICT v2 paths, provisional RSF paths,
and the ``_sim/`` control endpoints used by tests and the portal demo.

Answers follow ref §1.5 and §1.7: NDJSON (one object a line, ending with a processing-status
line) for rights and data, JSON elsewhere; functional refusals of data calls come with HTTP 200
in ``statut_restitution``; rule violations on rights with 400/404/409 and GRDF's
``code_statut_traitement``/``message_retour_traitement``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from grdf_access.simulator import generator, rights, sandbox, state
from grdf_access.simulator.rights import RuleError
from hub.clock import PARIS

TOKEN_LIFETIME = 14400  # seconds (ref §1.2)
NDJSON = "application/x-ndjson"
SUCCESS = {
    "code_statut_traitement": "0000000000",
    "message_retour_traitement": "L'opération s'est déroulée avec succès.",
}
RETRY_MESSAGE = (
    "Le serveur a rencontré une erreur lors de la restitution. "
    "Veuillez retenter votre appel sur la période mentionnée ci-dessus."
)
MAX_BULK = 1000  # PCEs a call (PO2, ref §1.4)
HISTORY_YEARS = {"publiees": 5, "injections": 5, "informatives": 3, "informatives_horaires": 3}
PERIODE_PATTERN = re.compile(r"^(PN-)?(\d{4})(?:-(\d{2})|-W(\d{2})(?:-(\d))?|-(\d{3}))?$")

# Faults a test can inject for a PCE (``set_fault``).
RETRYABLE = "retryable"  # the second half of the asked period answers GRDF's retryable error
PRETTY = "pretty"  # records pretty-printed over several lines (sandbox v6, ref §1.5)
MALFORMED = "malformed"  # one broken object among the records


# -- credentials ---------------------------------------------------------------------------


def secret_for(client_id: str) -> str:
    """The client secret the simulator accepts for ``client_id`` (besides the settings' pair)."""
    return hmac.new(
        settings.SECRET_KEY.encode(), f"grdf-sim:{client_id}".encode(), hashlib.sha256
    ).hexdigest()[:32]


def _credentials_valid(client_id: str, client_secret: str) -> bool:
    if not client_id or not client_secret:
        return False
    if client_id == settings.GRDF_CLIENT_ID and hmac.compare_digest(
        client_secret, settings.GRDF_CLIENT_SECRET
    ):
        return True
    return hmac.compare_digest(client_secret, secret_for(client_id))


def _sign(payload: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"grdf-sim-token:{payload}".encode(), hashlib.sha256
    ).hexdigest()[:40]


def token_for(client_id: str, *, expires: int | None = None) -> str:
    """A bearer token any process can check: client id, expiry and a MAC."""
    expires = expires or int(time.time()) + TOKEN_LIFETIME
    payload = f"{base64.urlsafe_b64encode(client_id.encode()).decode().rstrip('=')}.{expires}"
    return f"{payload}.{_sign(payload)}"


def _client_of(request: HttpRequest) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token.count(".") != 2:
        return None
    encoded, expires, mac = token.strip().split(".")
    if not hmac.compare_digest(mac, _sign(f"{encoded}.{expires}")):
        return None
    if not expires.isdigit() or int(expires) < time.time():
        return None
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """OAuth2 client credentials, scope ``/adict/v2``.

    Ref §1.2: a form-urlencoded POST of ``grant_type``, ``client_id``, ``client_secret`` and
    ``scope`` (client_secret_post). Credentials in an HTTP Basic header are not what GRDF's
    endpoint is documented to take: they are refused as ``invalid_client`` (the simulator's
    reading; Okta answers so for a client registered for client_secret_post).
    """
    state.bump("token_requests")
    if request.method != "POST":
        return JsonResponse({"error": "invalid_request"}, status=405)
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        return JsonResponse(
            {
                "error": "invalid_client",
                "error_description": "Client authentication is client_secret_post.",
            },
            status=401,
        )
    client_id = request.POST.get("client_id", "")
    client_secret = request.POST.get("client_secret", "")
    if request.POST.get("grant_type") != "client_credentials":
        return JsonResponse({"error": "unsupported_grant_type"}, status=400)
    if not _credentials_valid(client_id, client_secret):
        return JsonResponse({"error": "invalid_client"}, status=401)
    scope = request.POST.get("scope", "")
    if scope.split()[:1] != [settings.GRDF_SCOPE]:
        return JsonResponse({"error": "invalid_scope"}, status=400)
    return JsonResponse(
        {
            "access_token": token_for(client_id),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME,
            "scope": f"{settings.GRDF_SCOPE} {client_id}",
        }
    )


# -- plumbing ------------------------------------------------------------------------------


def _processing(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"code_statut_traitement": code, "message_retour_traitement": message},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


def _ndjson(
    lines: Iterable[Any], *, pretty: bool = False, status: dict[str, Any] | None = None
) -> HttpResponse:
    indent = 2 if pretty else None
    body = "\n".join(
        line if isinstance(line, str) else json.dumps(line, ensure_ascii=False, indent=indent)
        for line in lines
    )
    body += "\n" + json.dumps(status or SUCCESS, ensure_ascii=False) + "\n"
    return HttpResponse(body.encode(), content_type=NDJSON)


def api(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Counts the request, answers injected 429s, authenticates, passes ``client_id``/``now``."""

    @csrf_exempt
    def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
        with state.request_scope():
            return _serve(view, request, **kwargs)

    wrapper.__name__ = view.__name__
    return wrapper


def _serve(view: Callable[..., HttpResponse], request: HttpRequest, **kwargs: Any) -> HttpResponse:
    client_id = _client_of(request)  # no cache access: the token carries its own proof
    pce = kwargs.get("pce")
    # One round trip for what every call needs, plus the PCE's fault and the caller's rights
    # on it: the data endpoints are the benchmark's hot path.
    names = ["throttle", "clock"]
    if pce:
        names += [f"fault:{pce}", f"pce:{client_id}:{pce}"]
    found = state.get_many(names)
    state.bump("requests")
    throttle = found.get("throttle")
    if throttle and throttle["remaining"] > 0:
        state.put("throttle", {**throttle, "remaining": throttle["remaining"] - 1})
        state.bump("throttled")
        response = _processing(429, "429", "Quota d'appels dépassé.")
        response["Retry-After"] = str(throttle["retry_after"])
        return response
    if client_id is None:
        return _processing(401, "1000000001", "Jeton d'accès absent, invalide ou expiré.")
    pinned = found.get("clock")
    now = dt.datetime.fromisoformat(pinned) if pinned else dt.datetime.now(dt.UTC)
    request.grdf_sim_fault = found.get(f"fault:{pce}")  # type: ignore[attr-defined]
    request.grdf_sim_right_ids = found.get(f"pce:{client_id}:{pce}", [])  # type: ignore[attr-defined]
    try:
        return view(request, client_id=client_id, now=now, **kwargs)
    except RuleError as error:
        return _processing(error.status, error.code, error.message)


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if not request.body.strip():
        return {}
    try:
        body = json.loads(request.body)
    except ValueError:
        raise RuleError(400, "1000000000", "Le corps de la requête n'est pas du JSON.") from None
    if not isinstance(body, dict):
        raise RuleError(400, "1000000000", "Le corps de la requête doit être un objet JSON.")
    return body


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise RuleError(405, "1000000000", f"Méthode {request.method} non permise.")


# -- access rights -------------------------------------------------------------------------


def _answer_right(
    right: dict[str, Any], code: str, message: str, status: int = 200
) -> JsonResponse:
    return JsonResponse(
        {
            **rights.public(right),
            "code_statut_traitement": code,
            "message_retour_traitement": message,
        },
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


@api
def declare(request: HttpRequest, *, client_id: str, now: dt.datetime, pce: str) -> HttpResponse:
    _method(request, "PUT")
    declared = rights.declare(client_id=client_id, pce=pce, body=_json_body(request), now=now)
    return _answer_right(declared.right, declared.code, declared.message, status=201)


def _as_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@api
def list_rights(request: HttpRequest, *, client_id: str, now: dt.datetime) -> HttpResponse:
    """``GET /droits_acces`` (all) and ``POST /droits_acces`` (cumulative filters, ref §1.4)."""
    _method(request, "GET", "POST")
    body = _json_body(request) if request.method == "POST" else {}
    pces = _as_list(body.get("id_pce"))
    if len(pces) > MAX_BULK:
        raise RuleError(400, "2000000009", f"Au maximum {MAX_BULK} PCE par appel.")
    found = [rights.effective(r, now) for r in rights.rights_of(client_id)]
    for pce in pces:
        item = sandbox.scenario(pce)
        sandbox_right = sandbox.right_of(item, client_id=client_id) if item else None
        if sandbox_right and not any(r["id_pce"] == pce for r in found):
            found.append(sandbox_right)
    filters = {
        "id_pce": set(pces),
        "role_tiers": set(_as_list(body.get("role_tiers"))),
        "etat_droit_acces": {rights.fold(s) for s in _as_list(body.get("etat_droit_acces"))},
        "statut_controle_preuve": {
            rights.fold(s) for s in _as_list(body.get("statut_controle_preuve"))
        },
    }
    selected = [
        r
        for r in found
        if (not filters["id_pce"] or r["id_pce"] in filters["id_pce"])
        and (not filters["role_tiers"] or r["role_tiers"] in filters["role_tiers"])
        and (
            not filters["etat_droit_acces"]
            or rights.fold(r["etat_droit_acces"]) in filters["etat_droit_acces"]
        )
        and (
            not filters["statut_controle_preuve"]
            or rights.fold(r.get("statut_controle_preuve") or "")
            in filters["statut_controle_preuve"]
        )
    ]
    return _ndjson(rights.public(r) for r in selected)


@api
def right_detail(
    request: HttpRequest, *, client_id: str, now: dt.datetime, right_id: str
) -> HttpResponse:
    """``PATCH`` revokes (ref §1.3 ``fin_acces``); ``PUT`` modifies (RSF, provisional)."""
    _method(request, "PATCH", "PUT")
    if request.method == "PATCH":
        rights.revoke(str(right_id), client_id=client_id, now=now)
        return _processing(200, "0000000000", "Le droit d'accès a été révoqué.")
    updated = rights.modify(str(right_id), client_id=client_id, body=_json_body(request), now=now)
    return _answer_right(updated, "0000000000", "Le droit d'accès a été modifié.")


@api
def terminate(
    request: HttpRequest, *, client_id: str, now: dt.datetime, right_id: str
) -> HttpResponse:
    _method(request, "POST")
    rights.terminate(str(right_id), client_id=client_id, now=now)
    return _processing(200, "0000000000", "Le droit d'accès a été résilié.")


@api
def proofs(
    request: HttpRequest, *, client_id: str, now: dt.datetime, right_id: str
) -> HttpResponse:
    """``PUT /droit_acces/{id}/preuves``: multipart field ``preuves`` (ref §1.3)."""
    _method(request, "PUT")
    try:
        # Django parses multipart bodies for POST only; a PUT's is parsed here.
        _post, files = MultiPartParser(request.META, request, request.upload_handlers).parse()
    except MultiPartParserError:
        raise RuleError(400, "1000000000", "Le corps multipart est invalide.") from None
    uploaded = [(f.name or "", f.content_type or "", f.size or 0) for f in files.getlist("preuves")]
    rights.upload_proofs(str(right_id), client_id=client_id, files=uploaded, now=now)
    return _processing(200, "0000000000", "Les preuves ont bien été transmises.")


@api
def declare_bulk(request: HttpRequest, *, client_id: str, now: dt.datetime) -> HttpResponse:
    """RSF mass declaration (provisional): NDJSON in, one NDJSON answer line per declaration."""
    _method(request, "POST")
    lines = [
        line for line in request.body.decode("utf-8", errors="replace").split("\n") if line.strip()
    ]
    if len(lines) > MAX_BULK:
        raise RuleError(400, "2000000009", f"Au maximum {MAX_BULK} PCE par appel.")
    answers: list[dict[str, Any]] = []
    for line in lines:
        try:
            body = json.loads(line)
        except ValueError:
            answers.append(
                {
                    "id_pce": None,
                    "statut_http": 400,
                    "code_statut_traitement": "1000000000",
                    "message_retour_traitement": "Ligne JSON invalide.",
                }
            )
            continue
        pce = str(body.get("id_pce") or "")
        try:
            declared = rights.declare(client_id=client_id, pce=pce, body=body, now=now)
        except RuleError as error:
            answers.append(
                {
                    "id_pce": pce,
                    "statut_http": error.status,
                    "code_statut_traitement": error.code,
                    "message_retour_traitement": error.message,
                }
            )
        else:
            answers.append(
                {
                    **rights.public(declared.right),
                    "code_statut_traitement": declared.code,
                    "message_retour_traitement": declared.message,
                }
            )
    return _ndjson(answers)


# -- subscriptions (RSF, provisional) --------------------------------------------------------


@api
def subscribe(request: HttpRequest, *, client_id: str, now: dt.datetime, pce: str) -> HttpResponse:
    """TJDC needs a right granting informative data, PPH one granting hourly data."""
    _method(request, "PUT")
    rights.check_pce(pce)
    body = _json_body(request)
    kind = str(body.get("type_abonnement") or "").upper()
    if kind not in ("TJDC", "PPH"):
        raise RuleError(400, "1000000000", "type_abonnement doit valoir TJDC ou PPH.")
    start = rights.parse_date(body.get("date_debut"), "date_debut", required=True)
    end = rights.parse_date(body.get("date_fin"), "date_fin")
    assert start is not None
    if end is not None and end <= start:
        raise RuleError(400, "1000000000", "date_fin doit suivre date_debut.")
    data_type = "informatives" if kind == "TJDC" else "informatives_horaires"
    refusal = rights.check_consent(
        client_id=client_id, pce=pce, data_type=data_type, first=None, last=None, now=now
    )
    if refusal is not None:
        raise RuleError(409, refusal.code, refusal.message)
    for existing in state.items(f"subs:{client_id}"):
        current = state.get(f"sub:{existing}")
        if (
            current
            and current["id_pce"] == pce
            and current["type_abonnement"] == kind
            and current["etat_abonnement"] == "Actif"
        ):
            raise RuleError(409, "1000000003", "Un abonnement existe déjà.")
    subscription = {
        "id_abonnement": str(uuid.uuid4()),
        "id_pce": pce,
        "type_abonnement": kind,
        "date_debut": start.isoformat(),
        "date_fin": end.isoformat() if end else None,
        "etat_abonnement": "Actif",
        "date_creation": rights.local_text(now),
        "_client": client_id,
    }
    state.put(f"sub:{subscription['id_abonnement']}", subscription)
    state.append(f"subs:{client_id}", subscription["id_abonnement"])
    return JsonResponse(
        {**rights.public(subscription), **SUCCESS},
        status=201,
        json_dumps_params={"ensure_ascii": False},
    )


@api
def list_subscriptions(request: HttpRequest, *, client_id: str, now: dt.datetime) -> HttpResponse:
    _method(request, "POST", "GET")
    body = _json_body(request) if request.method == "POST" else {}
    pces = set(_as_list(body.get("id_pce")))
    ids = state.items(f"subs:{client_id}")
    found = state.get_many(f"sub:{i}" for i in ids)
    subscriptions = [found[f"sub:{i}"] for i in ids if f"sub:{i}" in found]
    return _ndjson(rights.public(s) for s in subscriptions if not pces or s["id_pce"] in pces)


@api
def cancel_subscription(
    request: HttpRequest, *, client_id: str, now: dt.datetime, subscription_id: str
) -> HttpResponse:
    _method(request, "PATCH")
    subscription = state.get(f"sub:{subscription_id}")
    if subscription is None or subscription["_client"] != client_id:
        raise RuleError(404, "1000000001", "Aucun abonnement trouvé.")
    if subscription["etat_abonnement"] != "Actif":
        raise RuleError(409, "2000000003", "L'abonnement est déjà terminé.")
    state.put(
        f"sub:{subscription_id}",
        {
            **subscription,
            "etat_abonnement": "Résilié",
            "date_fin": rights.today_of(now).isoformat(),
        },
    )
    return _processing(200, "0000000000", "L'abonnement a été résilié.")


# -- data ----------------------------------------------------------------------------------


def _error_line(
    pce: str, first: dt.date | None, last: dt.date | None, code: str, message: str
) -> dict[str, Any]:
    return {
        "pce": {"id_pce": pce},
        "periode": {
            "date_debut": first.isoformat() if first else None,
            "date_fin": last.isoformat() if last else None,
        },
        "statut_restitution": {"code": code, "message": message},
    }


def _bad_request(code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"statut_restitution": {"code": code, "message": message}},
        status=400,
        json_dumps_params={"ensure_ascii": False},
    )


def periode_range(text: str) -> tuple[dt.date, dt.date] | None:
    """``YYYY``, ``YYYY-MM``, ``YYYY-Www[-N]``, ``YYYY-DDD`` (``PN-`` accepted, ref §1.3)."""
    match = PERIODE_PATTERN.match(text)
    if match is None:
        return None
    year = int(match.group(2))
    month, week, weekday, ordinal = match.group(3), match.group(4), match.group(5), match.group(6)
    try:
        if month:
            first = dt.date(year, int(month), 1)
            return first, (first + dt.timedelta(days=32)).replace(day=1)
        if week:
            if weekday:
                first = dt.date.fromisocalendar(year, int(week), int(weekday))
                return first, first + dt.timedelta(days=1)
            first = dt.date.fromisocalendar(year, int(week), 1)
            return first, first + dt.timedelta(days=7)
        if ordinal:
            first = dt.date(year, 1, 1) + dt.timedelta(days=int(ordinal) - 1)
            if first.year != year:
                return None
            return first, first + dt.timedelta(days=1)
        return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    except ValueError:
        return None


def _asked_range(
    request: HttpRequest, data_type: str, today: dt.date
) -> tuple[dt.date, dt.date] | JsonResponse:
    periode = request.GET.get("periode", "")
    start_text, end_text = request.GET.get("date_debut", ""), request.GET.get("date_fin", "")
    if periode and (start_text or end_text):
        return _bad_request(
            "1000006", "Renseignez soit la période, soit les dates de début et de fin."
        )
    if periode:
        asked = periode_range(periode)
        if asked is None:
            return _bad_request("1000006", "Le format de la période est incorrect.")
        first, last = asked
        last = min(last, today)
    else:
        if not start_text or not end_text:
            return _bad_request(
                "1000006", "Les paramètres date_debut et date_fin sont obligatoires."
            )
        try:
            first, last = dt.date.fromisoformat(start_text), dt.date.fromisoformat(end_text)
        except ValueError:
            return _bad_request(
                "1000006", "date_debut et date_fin doivent être des dates AAAA-MM-JJ."
            )
        if last > today:
            return _bad_request(
                "1000007", "La date de fin doit être inférieure ou égale à la date du jour."
            )
    if first >= last:
        return _bad_request("1000006", "La date de début doit précéder la date de fin.")
    years = HISTORY_YEARS[data_type]
    limit = (
        today.replace(year=today.year - years)
        if not (today.month == 2 and today.day == 29)
        else today.replace(year=today.year - years, day=28)
    )
    if first < limit:
        return _bad_request("1000004", f"La date de début ne peut remonter à plus de {years} ans.")
    return first, last


_GENERATORS: dict[str, Callable[[str, dt.date, dt.date, dt.datetime], list[dict[str, Any]]]] = {
    "donnees_consos_publiees": generator.published,
    "donnees_consos_informatives": generator.informative_daily,
    "donnees_consos_horaires": generator.informative_hourly,
    "donnees_injections_publiees": lambda pce, first, last, now: generator.published(
        pce, first, last, now, injection=True
    ),
}
_TYPES = {
    "donnees_consos_publiees": "publiees",
    "donnees_consos_informatives": "informatives",
    "donnees_consos_horaires": "informatives_horaires",
    "donnees_injections_publiees": "publiees",
}


def _refuse(
    client_id: str, pce: str, data_type: str, refusal: rights.Refusal, now: dt.datetime
) -> None:
    state.bump("outside_consent", f"outside_consent.{refusal.reason}")
    state.log_outside(
        {
            "client_id": client_id,
            "pce": pce,
            "type": data_type,
            "reason": refusal.reason,
            "at": now.isoformat(),
        }
    )


@api
def data(
    request: HttpRequest, *, client_id: str, now: dt.datetime, pce: str, resource: str
) -> HttpResponse:
    """Published, informative (daily, RSF hourly) and injection data (NDJSON, ref §1.5)."""
    _method(request, "GET")
    state.bump("data_requests")
    if not rights.PCE_PATTERN.match(pce):
        return _bad_request("1000005", "L'identifiant du PCE n'est pas correctement formaté.")
    data_type = _TYPES[resource]
    today = now.astimezone(PARIS).date()
    asked = _asked_range(
        request, "injections" if resource == "donnees_injections_publiees" else data_type, today
    )
    if isinstance(asked, JsonResponse):
        return asked
    first, last = asked
    item = sandbox.scenario(pce)
    if item is not None and item.fault == sandbox.SERVER_ERROR:
        return _processing(500, "2000000", "Le serveur a rencontré une erreur technique.")
    if item is not None and item.fault == sandbox.OUT_OF_SERVICE:
        return _ndjson(
            [
                _error_line(
                    pce,
                    first,
                    last,
                    "1000000",
                    "Le PCE est mis hors service : vous n'êtes pas autorisé à accéder "
                    "à ses données.",
                )
            ]
        )
    refusal = rights.check_consent(
        client_id=client_id,
        pce=pce,
        data_type=data_type,
        first=first,
        last=last,
        now=now,
        right_ids=getattr(request, "grdf_sim_right_ids", None),
    )
    if refusal is not None:
        _refuse(client_id, pce, data_type, refusal, now)
        return _ndjson([_error_line(pce, first, last, refusal.code, refusal.message)])
    fault = getattr(request, "grdf_sim_fault", None)
    retry_from = None
    if fault and fault["kind"] == RETRYABLE and fault["remaining"] > 0:
        state.put(f"fault:{pce}", {**fault, "remaining": fault["remaining"] - 1})
        retry_from = first + (last - first) // 2 if (last - first).days > 1 else first
    records = _GENERATORS[resource](pce, first, retry_from or last, now)
    lines: list[Any] = list(records)
    if retry_from is not None:
        lines.append(
            _error_line(
                pce,
                retry_from,
                last,
                "2000100",
                RETRY_MESSAGE,
            )
        )
    elif not records:
        lines.append(
            _error_line(
                pce, first, last, "1000008", "Il n'y a pas de données pour la période demandée."
            )
        )
    if (item is not None and item.fault == sandbox.MALFORMED_BLOCK) or (
        fault and fault["kind"] == MALFORMED
    ):
        # A block with its closing bracket missing, as the sandbox once answered (ref §1.5).
        lines.insert(
            min(1, len(lines)),
            json.dumps(lines[0], ensure_ascii=False)[:-1]
            if lines and isinstance(lines[0], dict)
            else "{",
        )
    if item is not None and item.fault == sandbox.STREAM_ERROR:
        return _ndjson(
            lines[:2],
            status={
                "code_statut_traitement": "2000000001",
                "message_retour_traitement": "Erreur technique pendant la restitution.",
            },
        )
    return _ndjson(lines, pretty=bool(fault and fault["kind"] == PRETTY))


@api
def snapshot(
    request: HttpRequest, *, client_id: str, now: dt.datetime, pce: str, resource: str
) -> HttpResponse:
    """Contractual and technical data (JSON); ``filtre`` keeps only the named fields."""
    _method(request, "GET")
    state.bump("data_requests")
    if not rights.PCE_PATTERN.match(pce):
        return _bad_request("1000005", "L'identifiant du PCE n'est pas correctement formaté.")
    data_type = "contractuelles" if resource == "donnees_contractuelles" else "techniques"
    item = sandbox.scenario(pce)
    if item is not None and item.fault == sandbox.SERVER_ERROR:
        return _processing(500, "2000000", "Le serveur a rencontré une erreur technique.")
    refusal = rights.check_consent(
        client_id=client_id,
        pce=pce,
        data_type=data_type,
        first=None,
        last=None,
        now=now,
        right_ids=getattr(request, "grdf_sim_right_ids", None),
    )
    if refusal is not None:
        _refuse(client_id, pce, data_type, refusal, now)
        return JsonResponse(
            {
                "id_pce": pce,
                "statut_restitution": {"code": refusal.code, "message": refusal.message},
            },
            json_dumps_params={"ensure_ascii": False},
        )
    if data_type == "contractuelles":
        body = generator.contractual(pce, now.astimezone(PARIS).date())
        wanted = request.GET.getlist("filtre")
        if wanted:
            body = {
                k: v
                for k, v in body.items()
                if k in wanted or k in ("id_pce", "statut_restitution")
            }
    else:
        postcodes = [r.get("code_postal") for r in rights.rights_on(client_id, pce)]
        body = generator.technical(pce, postcode=next((p for p in postcodes if p), ""))
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})
