"""``AdictClient``: ADICT v2 and the provisional RSF operations over the hub's HTTP factory."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import httpx
import httpx_auth
from django.conf import settings

from grdf_access.client.errors import (
    AdictResponseError,
    AuthenticationError,
    BadRequestError,
    NoDataError,
    ProofLimitError,
    RetryableError,
    _http_error,
    _raise_for_restitution,
    _raise_for_status_line,
    _restitution_error,
    error_for,
)
from grdf_access.client.ratelimit import RateLimitedTransport, RateLimiter, rate_limiter_for
from grdf_access.client.records import (
    AccessDeclaration,
    AccessModification,
    AccessRight,
    BulkDeclarationItem,
    BulkDeclarationResult,
    ConsumptionRecord,
    ContractualData,
    InjectionRecord,
    OperationResult,
    ProofFile,
    ProofUploadResult,
    Records,
    Subscription,
    T,
    TechnicalData,
    _access_right,
    _consumption,
    _contractual,
    _injection,
    _operation,
    _subscription,
    _technical,
)
from grdf_access.client.wire import (
    MAX_PCES_PER_CALL,
    MAX_PROOF_BYTES,
    MAX_PROOF_FILES,
    PROVIDER,
    ProofStatus,
    RightState,
    Role,
    SubscriptionKind,
)
from grdf_access.ndjson import LineProblem, parse_ndjson
from hub.http import ClientCredentials, build_client, raise_for_provider
from hub.http import retry as http_retry
from hub.http.oauth import AuthMethod


class AdictClient:
    """ADICT v2 (+ provisional RSF) for one client credential. Close it, or use ``with``.

    Every argument defaults to the ``GRDF_*`` settings. ``rate_limiter`` defaults to the shared
    bucket of this credential (``GRDF_REQUESTS_PER_SECOND``); pass your own (or a high rate) in
    tests. ``transport`` is for tests (simulator through ``httpx.WSGITransport`` or a
    ``MockTransport``). ``functional_retries`` bounds how often a period answered with the
    retryable functional error is asked again.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        scope: str | None = None,
        auth_method: AuthMethod | None = None,
        rsf: bool | None = None,
        rate_limiter: RateLimiter | None = None,
        requests_per_second: float | None = None,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        functional_retries: int = 2,
        functional_retry_wait: float = 1.0,
    ) -> None:
        self.base_url = (base_url or settings.GRDF_ADICT_URL).rstrip("/")
        token_url = token_url or settings.GRDF_TOKEN_URL
        client_id = client_id or settings.GRDF_CLIENT_ID
        self.client_id = client_id
        # RSF configured: its fields are sent too (ADICT v2's only otherwise).
        self.rsf = settings.GRDF_RSF if rsf is None else rsf
        if rate_limiter is None:
            if requests_per_second is not None:
                rate_limiter = RateLimiter(requests_per_second)
            else:
                rate_limiter = rate_limiter_for(token_url=token_url, client_id=client_id)
        self.rate_limiter = rate_limiter
        self.functional_retries = functional_retries
        self.functional_retry_wait = functional_retry_wait
        credentials = ClientCredentials(
            token_url=token_url,
            client_id=client_id,
            client_secret=client_secret or settings.GRDF_CLIENT_SECRET,
            scope=scope or settings.GRDF_SCOPE,
            auth_method=auth_method or settings.GRDF_TOKEN_AUTH_METHOD,
            auth_method_setting="GRDF_TOKEN_AUTH_METHOD",
        )
        self._http = build_client(
            base_url=self.base_url,
            provider=PROVIDER,
            auth=credentials,
            transport=RateLimitedTransport(transport or httpx.HTTPTransport(), rate_limiter),
            retries=retries,
        )

    def __enter__(self) -> AdictClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- access rights ----------------------------------------------------------------------

    def declare_access(self, *, declaration: AccessDeclaration) -> AccessRight:
        """``PUT /pce/{id}/droit_acces``: declare a right; a TIERS_DIRECT one is "A valider".

        Raises ``NotFoundError`` (unknown PCE), ``ConflictError`` (right exists, postcode
        mismatch, revoked…), ``BadRequestError`` (field rules).
        """
        body = declaration.to_wire(rsf=self.rsf)
        data = self._json("PUT", f"/pce/{declaration.pce}/droit_acces", json=body)
        return _access_right(data)

    def list_access_rights(self) -> Records[AccessRight]:
        """``GET /droits_acces``: every right this credential declared."""
        return self._rights(self._ndjson("GET", "/droits_acces"))

    def search_access_rights(
        self,
        *,
        pces: Sequence[str] = (),
        roles: Sequence[Role | str] = (),
        states: Sequence[RightState | str] = (),
        proof_statuses: Sequence[ProofStatus | str] = (),
    ) -> Records[AccessRight]:
        """``POST /droits_acces`` with cumulative filters (lists, as LOWATT sends them).

        More than :data:`MAX_PCES_PER_CALL` PCEs are asked in several calls (GRDF refuses
        more, ref §1.4) and the answers merged.
        """
        body: dict[str, list[str]] = {}
        if roles:
            body["role_tiers"] = [str(r) for r in roles]
        if states:
            body["etat_droit_acces"] = [str(s) for s in states]
        if proof_statuses:
            body["statut_controle_preuve"] = [str(p) for p in proof_statuses]
        pce_list = list(pces)
        if not pce_list:
            return self._rights(self._ndjson("POST", "/droits_acces", json=body))
        rights: list[AccessRight] = []
        problems: list[LineProblem] = []
        for first in range(0, len(pce_list), MAX_PCES_PER_CALL):
            chunk = pce_list[first : first + MAX_PCES_PER_CALL]
            answer = self._rights(
                self._ndjson("POST", "/droits_acces", json={**body, "id_pce": chunk})
            )
            rights.extend(answer.items)
            problems.extend(answer.problems)
        return Records(tuple(rights), tuple(problems))

    def revoke_access(self, *, right_id: str) -> OperationResult:
        """``PATCH /droit_acces/{id}``: revoke as the AUTORISE third party (state "Révoquée")."""
        return _operation(self._json("PATCH", f"/droit_acces/{right_id}"))

    def upload_proofs(
        self, *, right_id: str, files: Sequence[ProofFile], check_limits: bool = True
    ) -> ProofUploadResult:
        """``PUT /droit_acces/{id}/preuves`` (multipart field ``preuves``).

        ``ProofLimitError`` before sending beyond 3 files or 4 MB a file (unless
        ``check_limits`` is false, to let GRDF refuse); ``ConflictError`` when GRDF asked no proof.
        """
        if check_limits:
            check_proof_limits(files)
        multipart = [("preuves", (f.filename, f.content, f.content_type)) for f in files]
        data = self._json("PUT", f"/droit_acces/{right_id}/preuves", files=multipart)
        operation = _operation(data)
        return ProofUploadResult(right_id, len(files), operation.code, operation.message, data)

    # -- RSF access rights (provisional) ----------------------------------------------------

    def modify_access(
        self, *, right_id: str, modification: AccessModification, injection: bool = False
    ) -> AccessRight:
        """RSF "Modification" (provisional ``PUT /droit_acces/{id}``): change dates/types/range."""
        body = modification.to_wire(injection=injection)
        return _access_right(self._json("PUT", f"/droit_acces/{right_id}", json=body))

    def terminate_access(self, *, right_id: str) -> OperationResult:
        """RSF "Résiliation" (provisional ``POST /droit_acces/{id}/resiliation``): "Résiliée"."""
        return _operation(self._json("POST", f"/droit_acces/{right_id}/resiliation"))

    def declare_access_bulk(
        self, *, declarations: Sequence[AccessDeclaration]
    ) -> BulkDeclarationResult:
        """RSF mass declaration (provisional ``POST /droits_acces/masse``, NDJSON both ways).

        One answer line per declaration, in order: the right, or that PCE's error.
        """
        payload = "\n".join(
            json.dumps({"id_pce": d.pce, **d.to_wire(rsf=True)}, ensure_ascii=False)
            for d in declarations
        )
        response = self._send(
            "POST",
            "/droits_acces/masse",
            content=payload.encode(),
            headers={"Content-Type": "application/x-ndjson"},
        )
        parsed = parse_ndjson(response.content)
        items: list[BulkDeclarationItem] = []
        for obj in parsed.objects:
            pce = str(obj.get("id_pce") or "")
            if obj.get("id_droit_acces"):
                items.append(BulkDeclarationItem(pce, _access_right(obj), None))
            else:
                code = str(obj.get("code_statut_traitement") or obj.get("code") or "")
                message = str(obj.get("message_retour_traitement") or obj.get("message") or "")
                status = int(obj.get("statut_http") or 400)
                items.append(
                    BulkDeclarationItem(pce, None, error_for(code, message, status, pce=pce))
                )
        return BulkDeclarationResult(tuple(items), parsed.problems)

    # -- RSF subscriptions (provisional) ------------------------------------------------------

    def subscribe(
        self, *, pce: str, kind: SubscriptionKind, start: dt.date, end: dt.date | None = None
    ) -> Subscription:
        """RSF TJDC/PPH subscription (provisional ``PUT /pce/{id}/abonnement``)."""
        body: dict[str, Any] = {"type_abonnement": str(kind), "date_debut": start.isoformat()}
        if end is not None:
            body["date_fin"] = end.isoformat()
        return _subscription(self._json("PUT", f"/pce/{pce}/abonnement", json=body))

    def list_subscriptions(self, *, pces: Sequence[str] = ()) -> Records[Subscription]:
        """RSF subscriptions of this credential (provisional ``POST /abonnements``)."""
        body = {"id_pce": list(pces)} if pces else {}
        objects, problems = self._ndjson("POST", "/abonnements", json=body)
        return Records(tuple(_subscription(o) for o in objects), problems)

    def cancel_subscription(self, *, subscription_id: str) -> OperationResult:
        """End an RSF subscription (provisional ``PATCH /abonnement/{id}``)."""
        return _operation(self._json("PATCH", f"/abonnement/{subscription_id}"))

    # -- data ------------------------------------------------------------------------------

    def published_consumption(
        self,
        *,
        pce: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        periode: str = "",
    ) -> Records[ConsumptionRecord]:
        """``GET /pce/{id}/donnees_consos_publiees`` for ``[start, end)`` or a ``periode``."""
        return self._data(pce, "donnees_consos_publiees", start, end, periode, _consumption)

    def informative_consumption(
        self,
        *,
        pce: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        periode: str = "",
    ) -> Records[ConsumptionRecord]:
        """``GET /pce/{id}/donnees_consos_informatives``: daily records, one per gas day."""
        return self._data(pce, "donnees_consos_informatives", start, end, periode, _consumption)

    def hourly_consumption(
        self, *, pce: str, start: dt.date, end: dt.date
    ) -> Records[ConsumptionRecord]:
        """RSF hourly informative data (provisional ``GET /pce/{id}/donnees_consos_horaires``).

        One record per hour of each gas day in ``[start, end)``: 23 or 25 on DST gas days.
        """
        return self._data(pce, "donnees_consos_horaires", start, end, "", _consumption)

    def injection(
        self,
        *,
        pce: str,
        start: dt.date | None = None,
        end: dt.date | None = None,
        periode: str = "",
    ) -> Records[InjectionRecord]:
        """``GET /pce/{id}/donnees_injections_publiees`` (biomethane)."""
        return self._data(pce, "donnees_injections_publiees", start, end, periode, _injection)

    def contractual_data(self, *, pce: str, filters: Sequence[str] = ()) -> ContractualData:
        """``GET /pce/{id}/donnees_contractuelles``; ``filters`` become repeated ``filtre``."""
        params = [("filtre", f) for f in filters]
        data = self._json("GET", f"/pce/{pce}/donnees_contractuelles", params=params, pce=pce)
        return _contractual(pce, data)

    def technical_data(self, *, pce: str) -> TechnicalData:
        """``GET /pce/{id}/donnees_techniques``."""
        return _technical(pce, self._json("GET", f"/pce/{pce}/donnees_techniques", pce=pce))

    # -- plumbing ----------------------------------------------------------------------------

    def _send(self, method: str, path: str, *, pce: str = "", **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except (httpx_auth.InvalidGrantRequest, httpx_auth.InvalidToken) as error:
            raise AuthenticationError(str(error), http_status=401, pce=pce) from None
        if response.status_code in (400, 401, 403, 404, 409):
            raise _http_error(response, pce=pce)
        raise_for_provider(response)
        return response

    def _json(self, method: str, path: str, *, pce: str = "", **kwargs: Any) -> dict[str, Any]:
        response = self._send(method, path, pce=pce, **kwargs)
        try:
            data = json.loads(response.content) if response.content.strip() else {}
        except ValueError:
            raise AdictResponseError("the answer is not JSON", pce=pce) from None
        if not isinstance(data, dict):
            raise AdictResponseError("the answer is not a JSON object", pce=pce)
        _raise_for_restitution(data, pce=pce, period=None)
        return data

    def _ndjson(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[list[dict[str, Any]], tuple[LineProblem, ...]]:
        parsed = parse_ndjson(self._send(method, path, **kwargs).content)
        _raise_for_status_line(parsed.status, pce=str(kwargs.get("pce", "")))
        return parsed.objects, parsed.problems

    def _rights(
        self, answer: tuple[list[dict[str, Any]], tuple[LineProblem, ...]]
    ) -> Records[AccessRight]:
        objects, problems = answer
        rights: list[AccessRight] = []
        extra: list[LineProblem] = []
        for obj in objects:
            try:
                rights.append(_access_right(obj))
            except (AdictResponseError, ValueError) as error:
                extra.append(LineProblem(0, str(error), json.dumps(obj)[:200]))
        return Records(tuple(rights), problems + tuple(extra))

    def _data(
        self,
        pce: str,
        resource: str,
        start: dt.date | None,
        end: dt.date | None,
        periode: str,
        build: Callable[[dict[str, Any]], T],
    ) -> Records[T]:
        if bool(periode) == (start is not None or end is not None):
            raise BadRequestError("give either periode or start and end", http_status=0, pce=pce)
        if not periode and (start is None or end is None):
            raise BadRequestError("start and end go together", http_status=0, pce=pce)
        params = (
            {"periode": periode}
            if periode
            else {
                "date_debut": start.isoformat(),  # type: ignore[union-attr]
                "date_fin": end.isoformat(),  # type: ignore[union-attr]
            }
        )
        return self._fetch_data(pce, f"/pce/{pce}/{resource}", params, build, attempt=0)

    def _fetch_data(
        self,
        pce: str,
        path: str,
        params: dict[str, str],
        build: Callable[[dict[str, Any]], T],
        *,
        attempt: int,
    ) -> Records[T]:
        objects, problems = self._ndjson("GET", path, params=params, pce=pce)
        items: list[T] = []
        notes: list[LineProblem] = list(problems)
        retry_periods: list[tuple[dt.date, dt.date]] = []
        for obj in objects:
            error = _restitution_error(obj, pce=pce)
            if error is None:
                items.append(build(obj))
            elif isinstance(error, NoDataError):
                notes.append(LineProblem(0, f"{error.code} {error.message}", ""))
            elif isinstance(error, RetryableError) and error.period is not None:
                retry_periods.append(error.period)
            else:
                raise error
        for first, last in retry_periods:
            if attempt >= self.functional_retries:
                raise RetryableError(
                    "GRDF still asks to call again for the period",
                    code="2000100",
                    pce=pce,
                    period=(first, last),
                )
            http_retry.pause(self.functional_retry_wait)
            # A one-day period may be written with equal dates; ask for it as [day, day + 1).
            end = last if last > first else first + dt.timedelta(days=1)
            again = self._fetch_data(
                pce,
                path,
                {"date_debut": first.isoformat(), "date_fin": end.isoformat()},
                build,
                attempt=attempt + 1,
            )
            items.extend(again.items)
            notes.extend(again.problems)
        return Records(tuple(items), tuple(notes))


def check_proof_limits(files: Sequence[ProofFile]) -> None:
    """Raise ``ProofLimitError`` beyond 3 files or 4 MB for one file (ref §1.3)."""
    if not files:
        raise ProofLimitError("at least one proof file is required", http_status=0)
    if len(files) > MAX_PROOF_FILES:
        raise ProofLimitError(f"at most {MAX_PROOF_FILES} proof files", http_status=0)
    for proof in files:
        if len(proof.content) > MAX_PROOF_BYTES:
            raise ProofLimitError(f"{proof.filename} is larger than 4 MB", http_status=0)
