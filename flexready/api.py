"""The BACS-side flexibility API of Flex Ready's Annex 1 ("Opérateur de Flexibilité").

Paths exist with and without the ``{session_id}`` segment and with and without ``/operator``
(see ``urls.py``). Callers: an operator's JWT, a hub API token or a verified portal session; a
BACS out of the caller's organisation answers 404. Calls that carry a session id are journalled.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any, NoReturn

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flexready import api_examples as ex
from flexready import journal, realisation, selectors, services
from flexready import program as prog
from flexready.auth import (
    JwtAuthentication,
    JwtIdentity,
    JwtRateThrottle,
    OperatorAccess,
    caller_label,
    organisation_of,
)
from flexready.models import Asset, Bacs, CertificationSession, FlexRequest
from flexready.report import session_pdf
from flexready.schema import ConfirmRequestBody, CreateRequestBody, FlexReadySchema
from hub import quantities
from hub.api.auth import ApiTokenAuthentication
from hub.api.problems import CONFLICT, REFUSED, Problem, field_error
from hub.api.schema import examples
from hub.api.throttling import OrganisationTokenRateThrottle, TokenRateThrottle
from hub.api.throttling import PersonRateThrottle as HubPersonRateThrottle
from hub.clock import PARIS
from hub.models import Organisation
from hub.netaddr import client_ip
from hub.portal.api_auth import VerifiedSessionAuthentication
from hub.selectors.series import Step
from hub.selectors.sources import SourceReadError, read_best
from hub.tenancy import NoOrganisation

DETAILED_MAX = dt.timedelta(days=31)
AGGREGATED_MAX = dt.timedelta(days=366)
AGGREGATED_STEPS = {s.value: s for s in (Step.MIN15, Step.MIN30, Step.HOUR, Step.DAY, Step.MONTH)}


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


def _iso(instant: dt.datetime) -> str:
    # Whole seconds, Paris offset: the annex's own precision.
    return instant.astimezone(PARIS).isoformat(timespec="seconds")


def _duration(seconds: int) -> str:
    """ISO 8601 duration, as OpenADR 3 writes them (``PT1M``)."""
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"PT{parts or '0S'}"


class PersonRateThrottle(HubPersonRateThrottle):
    """Hub's per-user (or per-IP) bucket, for people and anonymous readers; tokens and JWTs
    have theirs."""

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, JwtIdentity):
            return None
        return super().get_cache_key(request, view)


class FlexReadyView(APIView):
    authentication_classes = [
        JwtAuthentication,
        ApiTokenAuthentication,
        VerifiedSessionAuthentication,
    ]
    permission_classes = [OperatorAccess]
    throttle_classes = [
        TokenRateThrottle,
        OrganisationTokenRateThrottle,
        JwtRateThrottle,
        PersonRateThrottle,
    ]
    schema = FlexReadySchema()

    session: CertificationSession | None = None
    # Calls with a session id are journalled in that session; a view may opt out.
    journalled = True
    _organisation: Organisation | None = None

    @property
    def organisation(self) -> Organisation:
        """The caller's organisation (an operator's looked up on first use, when the view's
        own statement did not resolve it: ``resolves_operator``)."""
        if self._organisation is None:
            self._organisation = organisation_of(self.request)
        return self._organisation

    def owner(self) -> Organisation | selectors.Operator:
        """The caller's organisation, or the operator whose organisation the view's statement
        is to resolve."""
        auth = self.request.auth
        if self._organisation is None and isinstance(auth, JwtIdentity) and not auth.organisation:
            return selectors.Operator(auth.issuer, auth.subject)
        return self.organisation

    def resolved(self, organisation: Organisation) -> None:
        """The organisation the view's statement resolved for its operator."""
        self._organisation = organisation
        if isinstance(self.request.auth, JwtIdentity):
            self.request.auth.organisation = organisation

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Read the body before DRF parses it, so the journal keeps it verbatim.
        body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
        started_at, started = _now(), time.perf_counter()
        response = super().dispatch(request, *args, **kwargs)
        session = self.session
        if (
            session is None
            and self.journalled
            and kwargs.get("session_id")
            and response.status_code != 401
        ):
            session = self._session_or_none(kwargs["session_id"])
        if session is not None:
            if hasattr(response, "render"):
                response.render()
            journal.record_call(
                session=session,
                at=started_at,
                duration_ms=(time.perf_counter() - started) * 1000,
                request=request,
                body=body,
                caller=caller_label(self.request) if isinstance(self.request, Request) else "",
                status=response.status_code,
                response_body=getattr(response, "content", b""),
                content_type=response.get("Content-Type", ""),
            )
        return response

    def _session_or_none(self, session_id: str) -> CertificationSession | None:
        # The call failed before the view ran (permission, throttle): journal it still, when
        # the caller's organisation is known.
        try:
            organisation = organisation_of(self.request)
            return journal.session_for(
                organisation=organisation,
                session_id=session_id,
                now=_now(),
                created_by=caller_label(self.request),
            )
        except (exceptions.APIException, journal.BadSessionId, NoOrganisation):
            return None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        auth = request.auth
        if not isinstance(auth, JwtIdentity) or auth.organisation is not None:
            self._organisation = organisation_of(request)
        if kwargs.get("session_id") and self.journalled:
            self.session = journal.session_for(
                organisation=self.organisation,
                session_id=kwargs["session_id"],
                now=_now(),
                created_by=caller_label(request),
            )

    def caller(self) -> services.Caller:
        user = self.request.user if not isinstance(self.request.auth, JwtIdentity) else None
        return services.Caller(caller_label(self.request), client_ip(self.request._request), user)

    def bacs(self, bacs_id: str) -> Bacs:
        return get_object_or_404(Bacs, organisation=self.organisation, bacs_id=bacs_id)

    def asset(self, bacs_id: str, asset_id: str) -> Asset:
        return get_object_or_404(
            Asset.objects.select_related(
                "bacs__metering_point", "bacs__organisation"
            ).prefetch_related("periods"),
            bacs__organisation=self.organisation,
            bacs__bacs_id=bacs_id,
            asset_id=asset_id,
        )

    def flex_request(self, bacs_id: str, asset_id: str, request_id: str) -> FlexRequest:
        return get_object_or_404(
            FlexRequest.objects.select_related(
                "asset__bacs__metering_point", "asset__bacs__organisation"
            ).prefetch_related("asset__periods"),
            asset__bacs__organisation=self.organisation,
            asset__bacs__bacs_id=bacs_id,
            asset__asset_id=asset_id,
            request_id=request_id,
        )

    def json_body(self) -> dict[str, Any]:
        data = self.request.data
        if not isinstance(data, dict):
            raise prog.ProgramError("body", _("expected a JSON object"))
        return data


def bacs_json(bacs: Bacs) -> dict[str, Any]:
    return {"bacsID": bacs.bacs_id, "name": bacs.name, "description": bacs.description}


def potential_json(asset: Asset) -> dict[str, Any]:
    return {
        "flexProduct": asset.flex_product,
        "power": prog.format_power(asset.power_w, asset.power_multiplier),
        "mobilizationDelay": _duration(asset.mobilisation_delay_s),
        "maxDuration": _duration(asset.max_duration_s),
        "activationPerDay": asset.activations_per_day,
        "timePeriod": [{"start": _iso(p.start), "end": _iso(p.end)} for p in asset.periods.all()],
    }


def asset_json(asset: Asset) -> dict[str, Any]:
    return {
        "assetID": asset.asset_id,
        "bacsID": asset.bacs.bacs_id,
        "description": asset.description,
        "flexProduct": asset.flex_product,
        "potential": potential_json(asset),
    }


def request_json(request: FlexRequest) -> dict[str, Any]:
    steps = [prog.ProgramStep.from_json(s) for s in request.program]
    return {
        "requestID": request.request_id,
        "bacsID": request.asset.bacs.bacs_id,
        "assetID": request.asset.asset_id,
        "flexProduct": request.flex_product,
        "status": request.status,
        "power": [
            {
                "power": prog.format_power(s.power_w, s.multiplier),
                "start": _iso(s.start),
                "end": _iso(s.end),
            }
            for s in steps
        ],
        "ackPrice": services.ack_price_triplet(request.ack_price),
        "receivedAt": _iso(request.received_at),
        "confirmedAt": _iso(request.confirmed_at) if request.confirmed_at else None,
        "reasons": request.reasons,
    }


class BacsList(FlexReadyView):
    response_body = {(200, "application/json"): {"type": "array", "items": {"type": "object"}}}

    @extend_schema(summary="List the BACS", examples=examples(response=[ex.BACS]))
    def get(self, request: Request, **kwargs: Any) -> Response:
        rows = Bacs.objects.filter(organisation=self.organisation).order_by("bacs_id")
        return Response([bacs_json(b) for b in rows])


class BacsDetail(FlexReadyView):
    @extend_schema(summary="Read one BACS", examples=examples(response=ex.BACS))
    def get(self, request: Request, bacs_id: str, **kwargs: Any) -> Response:
        return Response(bacs_json(self.bacs(bacs_id)))


class AssetList(FlexReadyView):
    response_body = {(200, "application/json"): {"type": "array", "items": {"type": "object"}}}

    @extend_schema(
        summary="List a BACS's assets with their potential", examples=examples(response=[ex.ASSET])
    )
    def get(self, request: Request, bacs_id: str, **kwargs: Any) -> Response:
        bacs = self.bacs(bacs_id)
        assets = bacs.assets.prefetch_related("periods").select_related("bacs")
        return Response([asset_json(a) for a in assets])


class AssetDetail(FlexReadyView):
    @extend_schema(summary="Read one asset", examples=examples(response=ex.ASSET))
    def get(self, request: Request, bacs_id: str, asset_id: str, **kwargs: Any) -> Response:
        return Response(asset_json(self.asset(bacs_id, asset_id)))


class Potential(FlexReadyView):
    @extend_schema(
        summary="An asset's flexibility potential",
        examples=examples(response=ex.ASSET_POTENTIAL),
    )
    def get(self, request: Request, bacs_id: str, asset_id: str, **kwargs: Any) -> Response:
        asset = self.asset(bacs_id, asset_id)
        return Response(
            {"bacsID": bacs_id, "assetID": asset_id, "potential": potential_json(asset)}
        )


def _refusal(request: FlexRequest, reasons: list[prog.Reason]) -> NoReturn:
    # Annex 1 prescribes no error body: a problem, with the refused request (kept, so its
    # requestID stays taken) and every broken rule.
    raise Problem(
        kind=REFUSED,
        detail=_("La demande enfreint le potentiel de l'actif : voir « reasons »."),
        requestID=request.request_id,
        requestStatus=request.status,
        reasons=[r.as_json() for r in reasons],
        request=request_json(request),
    )


def _resolves_operator(view: FlexReadyView, request: Request) -> bool:
    # The write's first statement resolves an operator's organisation with what the call
    # names; a journalled call needs the organisation before (its session).
    return not view.kwargs.get("session_id")


class CreateRequest(FlexReadyView):
    request_body = CreateRequestBody
    response_body = {(201, "application/json"): OpenApiTypes.OBJECT}
    resolves_operator = _resolves_operator

    @extend_schema(
        summary="Ask an asset for a flexibility (a power program)",
        description="Checked against the asset's potential: 201 with the request, or 422 with "
        "every rule it breaks; 409 for a request id the asset already has.",
        examples=examples(request=ex.CREATE_IN, response=ex.REQUEST, status=201),
    )
    def post(self, request: Request, bacs_id: str, asset_id: str, **kwargs: Any) -> Response:
        try:
            data = self.json_body()
            request_id = services.parse_request_id(data.get("requestID"))
            product = services.parse_product(data.get("flexProduct"))
            steps = prog.parse_program(data.get("power"))
        except (prog.ProgramError, exceptions.APIException):
            self.asset(bacs_id, asset_id)  # an asset out of reach is a 404 before a bad body
            raise
        try:
            outcome = services.create_request(
                # Looked up with its lock, in the request's transaction.
                asset=selectors.AssetKey(self.owner(), bacs_id, asset_id),
                request_id=request_id,
                flex_product=product,
                steps=steps,
                now=_now(),
                caller=self.caller(),
                session=self.session,
                emulator_headers=journal.emulator_headers(request._request),
            )
        except Asset.DoesNotExist:
            self.organisation  # noqa: B018 - an operator mapped to no organisation is a 403
            raise Http404 from None
        except services.DuplicateRequest:
            reason = _("%(request_id)r existe déjà pour cet actif") % {"request_id": request_id}
            raise Problem(
                kind=CONFLICT, detail=reason, errors=[field_error(("requestID",), reason)]
            ) from None
        self.resolved(outcome.request.asset.bacs.organisation)
        if outcome.refused:
            return _refusal(outcome.request, outcome.reasons)
        return Response(request_json(outcome.request), status=status.HTTP_201_CREATED)


class RequestDetail(FlexReadyView):
    @extend_schema(summary="Read a flexibility request", examples=examples(response=ex.REQUEST))
    def get(
        self, request: Request, bacs_id: str, asset_id: str, request_id: str, **kwargs: Any
    ) -> Response:
        flex = self.flex_request(bacs_id, asset_id, request_id)
        flex = services.advance(request=flex, now=_now(), caller=self.caller())
        return Response(request_json(flex))


class ConfirmRequest(FlexReadyView):
    request_body = ConfirmRequestBody
    resolves_operator = _resolves_operator

    @extend_schema(
        summary="Confirm an accepted flexibility request",
        examples=examples(request=ex.CONFIRM_IN, response=ex.CONFIRMED),
    )
    def post(
        self, request: Request, bacs_id: str, asset_id: str, request_id: str, **kwargs: Any
    ) -> Response:
        try:
            data = self.json_body()
            product = services.parse_product(data.get("flexProduct"))
            steps = prog.parse_program(data.get("power"))
            ack_price = services.parse_ack_price(data.get("ackPrice"))
        except (prog.ProgramError, exceptions.APIException):
            self.flex_request(bacs_id, asset_id, request_id)  # a 404 before a bad body
            raise
        try:
            # With the day's count of the confirmed program, in one statement.
            flex, activations = selectors.request_to_confirm(
                key=selectors.AssetKey(self.owner(), bacs_id, asset_id),
                request_id=request_id,
                day_of=steps[0].start,
            )
        except FlexRequest.DoesNotExist:
            self.organisation  # noqa: B018 - an operator mapped to no organisation is a 403
            raise Http404 from None
        self.resolved(flex.asset.bacs.organisation)
        try:
            outcome = services.confirm_request(
                request=flex,
                flex_product=product,
                steps=steps,
                ack_price=ack_price,
                now=_now(),
                caller=self.caller(),
                activations_that_day=activations,
            )
        except services.WrongState as exc:
            raise Problem(
                kind=CONFLICT,
                detail=str(exc),
                errors=[field_error(("status",), str(exc))],
                requestID=request_id,
            ) from None
        if outcome.refused:
            return _refusal(outcome.request, outcome.reasons)
        return Response(request_json(outcome.request))


class RealiseRequest(FlexReadyView):
    """The request's realisation: measured, baseline and delivered power per step, and totals."""

    @extend_schema(
        summary="A request's realisation against its baseline",
        examples=examples(response=ex.REALISATION),
    )
    def get(
        self, request: Request, bacs_id: str, asset_id: str, request_id: str, **kwargs: Any
    ) -> Response:
        flex = self.flex_request(bacs_id, asset_id, request_id)
        now = _now()
        flex = services.advance(request=flex, now=now, caller=self.caller())
        if flex.realisation is not None and now >= flex.end:
            # advance() judged the ended request on the meter and kept that realisation: it is
            # the one the status rests on, and computing it again would read the series twice.
            body = flex.realisation
        else:
            body = realisation.realise(request=flex, now=now).as_json()
        return Response(
            {
                "requestID": flex.request_id,
                "bacsID": bacs_id,
                "assetID": asset_id,
                "status": flex.status,
                **body,
            }
        )


def _range(
    request: Request, *, default: dt.timedelta, limit: dt.timedelta, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    end_raw, start_raw = request.query_params.get("end"), request.query_params.get("start")
    end = prog.parse_instant(end_raw, field="end") if end_raw else now
    start = prog.parse_instant(start_raw, field="start") if start_raw else end - default
    if end <= start:
        raise prog.ProgramError("end", _("must be after start"))
    if end - start > limit:
        raise prog.ProgramError("start", _("at most %(days)s days at once") % {"days": limit.days})
    return start, end


def _meter(asset: Asset) -> Any:
    try:
        return realisation.meter_series(asset.bacs.metering_point)
    except realisation.NoMeter as exc:
        raise exceptions.NotFound(str(exc)) from exc


class Consumptions(FlexReadyView):
    """Detailed consumption of the asset's building meter: mean power of each meter step.

    The annex's example sends a JSON body with a GET; the path names the BACS and the asset, so
    the body is ignored.
    """

    @extend_schema(
        summary="The building meter's mean power per step (31 days at most)",
        parameters=[
            OpenApiParameter("start", str, description="ISO 8601; without offset: Paris wall time"),
            OpenApiParameter("end", str, description="ISO 8601; default now"),
        ],
        examples=examples(response=ex.CONSUMPTIONS),
    )
    def get(self, request: Request, bacs_id: str, asset_id: str, **kwargs: Any) -> Response:
        asset = self.asset(bacs_id, asset_id)
        _meter(asset)
        start, end = _range(request, default=dt.timedelta(days=1), limit=DETAILED_MAX, now=_now())
        try:
            step, profile, _series = realisation.power_profile(
                point=asset.bacs.metering_point, start=start, end=end
            )
        except realisation.NoMeter as exc:
            raise exceptions.NotFound(str(exc)) from exc
        points = [
            {
                "start": _iso(ts),
                "end": _iso(ts + dt.timedelta(seconds=step)),
                "power": prog.format_power(watts),
            }
            for ts, watts in sorted(profile.items())
            if start <= ts < end
        ]
        return Response(
            {
                "bacsID": bacs_id,
                "assetID": asset_id,
                "start": _iso(start),
                "end": _iso(end),
                "stepSeconds": step,
                "consumptions": points,
            }
        )


class AggregatedConsumptions(FlexReadyView):
    """The meter's series resampled by the database (``step``: 15min, 30min, 1h, 1d, 1mo)."""

    @extend_schema(
        summary="The building meter's consumption per step (366 days at most)",
        parameters=[
            OpenApiParameter("step", str, enum=list(AGGREGATED_STEPS), default="1d"),
            OpenApiParameter("start", str, description="ISO 8601; without offset: Paris wall time"),
            OpenApiParameter("end", str, description="ISO 8601; default now"),
        ],
        examples=examples(response=ex.AGGREGATED),
    )
    def get(self, request: Request, bacs_id: str, asset_id: str, **kwargs: Any) -> Response:
        asset = self.asset(bacs_id, asset_id)
        series = _meter(asset)
        step_raw = request.query_params.get("step", "1d")
        if step_raw not in AGGREGATED_STEPS:
            raise prog.ProgramError(
                "step", _("one of %(value)s") % {"value": ", ".join(AGGREGATED_STEPS)}
            )
        start, end = _range(request, default=dt.timedelta(days=7), limit=AGGREGATED_MAX, now=_now())
        point = asset.bacs.metering_point
        assert point is not None  # _meter answered 404 without one
        # Energy per bucket when the meter's best series is an energy, else mean power; each
        # bucket from the best source covering it (hub.selectors.sources).
        energy = series.quantity == quantities.ACTIVE_ENERGY_IMPORT.name
        quantity = quantities.ACTIVE_ENERGY_IMPORT if energy else quantities.ACTIVE_POWER_IMPORT
        try:
            read = read_best(
                metering_point=point,
                quantity=quantity,
                start=start,
                end=end,
                step=AGGREGATED_STEPS[step_raw],
            )
        except SourceReadError as exc:
            raise prog.ProgramError(exc.field, exc.reason) from exc
        return Response(
            {
                "bacsID": bacs_id,
                "assetID": asset_id,
                "step": step_raw,
                "aggregate": "sum" if energy else "mean",
                "consumptions": [
                    {
                        "start": _iso(r.start),
                        "value": {
                            "unit": read.unit,
                            "multiplier": "k",
                            "value": None if r.value is None else round(r.value / 1000, 6),
                        },
                    }
                    for r in read.readings
                ],
            }
        )


class SessionCreate(FlexReadyView):
    """``POST /sessions``: a new certification session (its id is also made on first use)."""

    response_body = {(201, "application/json"): OpenApiTypes.OBJECT}

    @extend_schema(
        summary="Open a certification session",
        parameters=[OpenApiParameter("emulator_module", str, default="operator")],
        examples=examples(response=ex.SESSION, status=201),
    )
    def post(self, request: Request, **kwargs: Any) -> Response:
        import uuid

        created = journal.session_for(
            organisation=self.organisation,
            session_id=str(uuid.uuid4()),
            now=_now(),
            created_by=caller_label(request),
        )
        return Response(
            {
                "session_id": created.session_id,
                "created_at": _iso(created.created_at),
                "emulator_module": request.query_params.get("emulator_module", "operator"),
            },
            status=status.HTTP_201_CREATED,
        )


class SessionReport(FlexReadyView):
    """``POST /sessions/{session_id}/reports``: the session's journal and summary as a PDF."""

    response_body = {(200, "application/pdf"): OpenApiTypes.BINARY}
    journalled = False  # asking for the report is not a call of the session

    @extend_schema(summary="A certification session's journal as a PDF")
    def post(self, request: Request, session_id: str, **kwargs: Any) -> HttpResponse:
        found = get_object_or_404(
            CertificationSession, organisation=self.organisation, session_id=session_id
        )
        pdf = session_pdf(session=found, now=_now())
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="flexready-{found.pk}.pdf"'
        return response


class Ping(FlexReadyView):
    """The smallest endpoint behind the same authentication: the benchmark's baseline."""

    @extend_schema(summary="Check an operator's credentials", examples=examples(response=ex.PING))
    def get(self, request: Request, **kwargs: Any) -> Response:
        organisation: Organisation = self.organisation
        return Response({"ok": True, "organisation": organisation.slug})
