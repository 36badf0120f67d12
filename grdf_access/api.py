"""REST API of GRDF access, mounted under ``/api/v1/grdf/``.

Scoped by the caller's organisation: another organisation's PCE, right or threshold answers
404. Data outside the consent answer 403 with the reason. Bad input answers 400 naming the
field.
"""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any, NoReturn

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grdf_access import api_examples as ex
from grdf_access import (
    csv_import,
    export,
    proofs,
    selectors,
    services,
    specs,
    tasks,
    thresholds,
)
from grdf_access.adict_gateway import gateway_for
from grdf_access.models import AccessRight, DataType, Pce, Snapshot, Subscription, Threshold
from hub.actors import Actor
from hub.api.jobs import JobSerializer, accepted, queue_unavailable
from hub.api.pagination import paginated
from hub.api.permissions import OrganisationRole
from hub.api.problems import Problem
from hub.api.schema import examples, page_example, page_of, problem_example
from hub.clock import local_day_of
from hub.identifiers import InvalidIdentifier, normalise
from hub.models import Organisation, Role
from hub.netaddr import client_ip
from hub.services import jobs
from hub.tenancy import current_organisation


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


def _today() -> dt.date:
    return local_day_of(_now())


class PceSerializer(serializers.ModelSerializer[Pce]):
    pce = serializers.CharField(source="metering_point.identifier", read_only=True)

    class Meta:
        model = Pce
        fields = [
            "pce",
            "alias",
            "site_label",
            "client_name",
            "postcode",
            "holder",
            "frequency",
            "mes_date",
            "informative_polled_at",
            "published_polled_at",
        ]


class RightSerializer(serializers.ModelSerializer[AccessRight]):
    pce = serializers.CharField(source="pce.identifier", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    types = serializers.ListField(source="granted_types", child=serializers.CharField())

    class Meta:
        model = AccessRight
        fields = [
            "id",
            "pce",
            "grdf_id",
            "role",
            "state",
            "state_label",
            "state_reason",
            "holder_name",
            "holder_company",
            "holder_email",
            "postcode",
            "consent_start",
            "consent_end",
            "data_start",
            "data_end",
            "types",
            "proof_status",
            "proof_deadline",
            "journey",
            "external",
            "created_at",
            "last_synced_at",
        ]


def _text_fields(names: list[str]) -> dict[str, serializers.Field]:
    return {n: serializers.CharField(required=False, allow_blank=True) for n in names}


DeclareIn = inline_serializer(
    "GrdfDeclareIn",
    fields={
        **_text_fields([c for c in csv_import.COLUMNS if c not in DataType.values]),
        **{t: serializers.BooleanField(required=False) for t in DataType.values},
    },
)
ModifyIn = inline_serializer(
    "GrdfModifyIn",
    fields={
        "fin_consentement": serializers.DateField(required=False),
        "debut_donnees": serializers.DateField(required=False),
        "fin_donnees": serializers.DateField(required=False),
        "types": serializers.ListField(
            child=serializers.ChoiceField(choices=DataType.values), required=False
        ),
        "courriel_titulaire": serializers.EmailField(required=False),
    },
)


class ModifyQuery(serializers.Serializer[Any]):
    fin_consentement = serializers.DateField(required=False)
    debut_donnees = serializers.DateField(required=False)
    fin_donnees = serializers.DateField(required=False)
    types = serializers.ListField(
        child=serializers.ChoiceField(choices=DataType.values), required=False
    )
    courriel_titulaire = serializers.EmailField(required=False)


CONSUMPTION_TYPES = [DataType.INFORMATIVE_DAILY, DataType.PUBLISHED, DataType.INFORMATIVE_HOURLY]


class RangeQuery(serializers.Serializer[Any]):
    start = serializers.DateField(input_formats=["%Y-%m-%d"])
    end = serializers.DateField(input_formats=["%Y-%m-%d"])
    step = serializers.ChoiceField(choices=selectors.STEPS, default="day")
    type = serializers.ChoiceField(choices=CONSUMPTION_TYPES, default=DataType.INFORMATIVE_DAILY)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["end"] <= attrs["start"]:
            raise ValidationError({"end": [_("la fin doit suivre le début")]})
        return attrs


class ExportQuery(serializers.Serializer[Any]):
    pces = serializers.ListField(child=serializers.CharField(), min_length=1)
    types = serializers.ListField(child=serializers.ChoiceField(choices=DataType.values))
    start = serializers.DateField(input_formats=["%Y-%m-%d"])
    end = serializers.DateField(input_formats=["%Y-%m-%d"])
    format = serializers.ChoiceField(choices=["csv", "xlsx"], default="csv")


class ThresholdSerializer(serializers.ModelSerializer[Threshold]):
    pce = serializers.CharField(source="pce.identifier")
    emails = serializers.ListField(
        source="email_list", child=serializers.EmailField(), required=False
    )

    class Meta:
        model = Threshold
        fields = [
            "id",
            "pce",
            "frequency",
            "value_kwh",
            "notify_before",
            "before_percent",
            "notify_after",
            "emails",
            "enabled",
        ]
        extra_kwargs = {
            "value_kwh": {"min_value": 0.001},
            "before_percent": {"min_value": 1, "max_value": 99},
        }


class GrdfView(APIView):
    permission_classes = [OrganisationRole]

    @property
    def organisation(self) -> Organisation:
        return current_organisation(self.request)

    def pce(self, identifier: str) -> Pce:
        try:
            return selectors.pce(organisation=self.organisation, identifier=identifier)
        except selectors.NotFound:
            raise Http404 from None

    def right(self, pk: int) -> AccessRight:
        try:
            return selectors.right(organisation=self.organisation, pk=pk)
        except selectors.NotFound:
            raise Http404 from None

    def start_job(self, *, kind: str, task: Any, params: dict[str, Any]) -> Response:
        """202 with the job; 503 when the task queue cannot be reached (nothing started)."""
        try:
            job = jobs.start(
                organisation=self.organisation,
                kind=kind,
                task=task,
                params=params,
                now=_now(),
                actor=Actor.from_request(self.request),
            )
        except jobs.BrokerUnavailable as exc:
            return queue_unavailable(exc)
        return accepted(job, self.request)


# A PCE named in the body that is not the organisation's answers as an unknown one.
UNKNOWN_PCE = OpenApiResponse(description="A PCE named in the body is not the organisation's.")


def _forbidden(exc: selectors.OutsideConsent) -> NoReturn:
    raise Problem(status=403, detail=exc.reason, code="outside_consent")


class PceList(GrdfView):
    @page_of(PceSerializer)
    @extend_schema(
        summary="List the organisation's GRDF PCEs",
        examples=examples(response=page_example(ex.PCE)),
    )
    def get(self, request: Request) -> Response:
        found = selectors.pces(organisation=self.organisation)
        return paginated(self, request, found, serializer=PceSerializer)


class PceDetail(GrdfView):
    @extend_schema(
        summary="Read one PCE with its access rights",
        responses={200: PceSerializer},
        examples=examples(response=ex.PCE_DETAIL),
    )
    def get(self, request: Request, pce: str) -> Response:
        found = self.pce(pce)
        return Response(
            {
                **PceSerializer(found).data,
                "rights": RightSerializer(found.rights.all(), many=True).data,
            }
        )


class Consumption(GrdfView):
    @extend_schema(
        parameters=[
            OpenApiParameter("start", dt.date, required=True, description="first gas day"),
            OpenApiParameter("end", dt.date, required=True, description="gas day after the last"),
            OpenApiParameter("step", str, enum=list(selectors.STEPS)),
            OpenApiParameter("type", str, enum=list(CONSUMPTION_TYPES)),
        ],
        summary="Read a PCE's consumption inside the consent",
        description="Gas days (06:00 to 06:00, Paris) summed by day, month or year; 403 with "
        "the reason outside the consent.",
        responses={200: dict, 403: dict},
        examples=examples(response=ex.CONSUMPTION),
    )
    def get(self, request: Request, pce: str) -> Response:
        found = self.pce(pce)
        query = RangeQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        try:
            bars = selectors.consumption(
                pce=found,
                start=q["start"],
                end=q["end"],
                step=q["step"],
                today=_today(),
                data_type=q["type"],
            )
        except selectors.OutsideConsent as exc:
            return _forbidden(exc)
        return Response(
            {
                "pce": found.identifier,
                "type": q["type"],
                "step": q["step"],
                "unit": "kWh",
                "values": [
                    {
                        "label": b.label,
                        "start": b.start.isoformat(),
                        "energy_kwh": b.energy_kwh,
                        "volume_m3": b.volume_m3,
                        "estimated": b.estimated,
                        "missing": b.missing,
                    }
                    for b in bars
                ],
            }
        )


class Revisions(GrdfView):
    """Definitive values GRDF corrected: the replaced value and when, inside the consent."""

    @extend_schema(
        parameters=[OpenApiParameter("start", str), OpenApiParameter("end", str)],
        summary="List GRDF's corrections of a PCE's values",
        responses={200: dict},
        examples=examples(response=ex.REVISIONS),
    )
    def get(self, request: Request, pce: str) -> Response:
        found = self.pce(pce)
        bounds: dict[str, dt.date | None] = {}
        for name in ("start", "end"):
            text = request.query_params.get(name, "")
            try:
                bounds[name] = dt.date.fromisoformat(text) if text else None
            except ValueError:
                raise ValidationError({name: [_("date AAAA-MM-JJ attendue")]}) from None
        rows = selectors.revisions(pce=found, today=_today(), **bounds)
        return Response(
            {
                "pce": found.identifier,
                "revisions": [
                    {
                        "type": r.data_type,
                        "quantity": r.quantity,
                        "unit": r.unit,
                        "start": r.start.isoformat(),
                        "gas_day": r.gas_day.isoformat(),
                        "previous_value": r.previous_value,
                        "previous_quality": r.previous_quality,
                        "value": r.value,
                        "quality": r.quality,
                        "replaced_at": r.replaced_at.isoformat(),
                    }
                    for r in rows
                ],
            }
        )


class Snapshots(GrdfView):
    @extend_schema(
        summary="List a PCE's contractual and technical data",
        description="Each kept snapshot with what changed since the one before; only the "
        "kinds the consent covers.",
        responses={200: dict, 403: dict},
        examples=examples(response=ex.SNAPSHOTS),
    )
    def get(self, request: Request, pce: str) -> Response:
        found = self.pce(pce)
        rights = list(found.rights.all())
        result: list[dict[str, Any]] = []
        for kind in (DataType.CONTRACTUAL, DataType.TECHNICAL):
            decision = selectors.consent.decide_any(rights=rights, data_type=kind, today=_today())
            if not decision.allowed:
                continue  # never served outside the consent
            result.extend(
                {
                    "kind": s.kind,
                    "fetched_at": s.fetched_at.isoformat(),
                    "data": s.data,
                    "changes": s.changes,
                }
                for s in Snapshot.objects.filter(pce=found, kind=kind).order_by("-fetched_at")
            )
        return Response({"pce": found.identifier, "snapshots": result})


class RightList(GrdfView):
    @page_of(RightSerializer)
    @extend_schema(
        parameters=[
            OpenApiParameter("state", str),
            OpenApiParameter("client", str),
            OpenApiParameter("site_label", str),
            OpenApiParameter("pce", str),
        ],
        summary="List the access rights",
        description="Filtered by state, client, site label or PCE; the first 1,000.",
        examples=examples(response=page_example(ex.RIGHT)),
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        found = selectors.rights(
            organisation=self.organisation,
            state=params.get("state", ""),
            client=params.get("client", ""),
            site_label=params.get("site_label", ""),
            pce=params.get("pce", ""),
        )
        return paginated(self, request, found, serializer=RightSerializer)

    @extend_schema(
        summary="Declare an access right to GRDF",
        request=DeclareIn,
        responses={201: RightSerializer, 400: dict},
        examples=[
            *examples(request=ex.DECLARE_IN, response=ex.DECLARED, status=201),
            OpenApiExample(
                "Malformed PCE",
                value=problem_example(
                    400,
                    instance="/api/v1/grdf/rights/",
                    field="pce",
                    reason="un PCE fait 14 chiffres ou « GI » suivi de 6 chiffres",
                ),
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        raw = request.data if isinstance(request.data, dict) else {}
        try:
            spec = specs.validate(raw, today=_today())
        except specs.SpecInvalid as exc:
            raise ValidationError(_errors(exc.errors)) from exc
        with gateway_for(self.organisation) as gateway:
            try:
                [right] = services.declare_rights(
                    organisation=self.organisation,
                    specs=[spec],
                    gateway=gateway,
                    now=_now(),
                    actor=Actor.from_request(request),
                )
            except services.RightError as exc:
                raise ValidationError({exc.field: [exc.reason]}) from exc
        return Response(RightSerializer(right).data, status=status.HTTP_201_CREATED)


def _errors(errors: list[specs.FieldError]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for error in errors:
        grouped.setdefault(error.field, []).append(error.reason)
    return grouped


class RightDetail(GrdfView):
    @extend_schema(
        summary="Read one access right",
        responses={200: RightSerializer},
        examples=examples(response=ex.RIGHT),
    )
    def get(self, request: Request, right_pk: int) -> Response:
        return Response(RightSerializer(self.right(right_pk)).data)

    @extend_schema(
        summary="Change an access right at GRDF",
        description="Consent end, data window, data types or the holder's e-mail.",
        request=ModifyIn,
        responses={200: RightSerializer, 400: dict},
        examples=examples(request=ex.MODIFY_IN, response=ex.MODIFIED),
    )
    def patch(self, request: Request, right_pk: int) -> Response:
        right = self.right(right_pk)
        query = ModifyQuery(data=request.data)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        changes = services.RightChanges(
            consent_end=q.get("fin_consentement"),
            data_start=q.get("debut_donnees"),
            data_end=q.get("fin_donnees"),
            types=frozenset(q["types"]) if "types" in q else None,
            holder_email=q.get("courriel_titulaire"),
        )
        with gateway_for(self.organisation) as gateway:
            services.modify_right(
                right=right,
                changes=changes,
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
        return Response(RightSerializer(right).data)


class RightEnd(GrdfView):
    action_name = "terminate"

    @extend_schema(request=None, responses={200: RightSerializer, 400: dict})
    def post(self, request: Request, right_pk: int) -> Response:
        right = self.right(right_pk)
        end = services.terminate_right if self.action_name == "terminate" else services.revoke_right
        with gateway_for(self.organisation) as gateway:
            end(
                right=right,
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
        return Response(RightSerializer(right).data)


class RightTerminate(RightEnd):
    action_name = "terminate"

    @extend_schema(
        summary="Terminate an access right (the supplier's side)",
        request=None,
        responses={200: RightSerializer, 400: dict},
        examples=examples(response=ex.TERMINATED),
    )
    def post(self, request: Request, right_pk: int) -> Response:
        return super().post(request, right_pk)


class RightRevoke(RightEnd):
    action_name = "revoke"

    @extend_schema(
        summary="Revoke an access right (the customer withdrew consent)",
        request=None,
        responses={200: RightSerializer, 400: dict},
        examples=examples(response=ex.REVOKED),
    )
    def post(self, request: Request, right_pk: int) -> Response:
        return super().post(request, right_pk)


class RightProofs(GrdfView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "preuves": {"type": "array", "items": {"type": "string", "format": "binary"}}
                },
            }
        },
        summary="Send the consent's proofs to GRDF",
        responses={201: dict, 400: dict},
        examples=examples(
            request={"preuves": ["mandat-lycee-ampere.pdf"]},
            request_media_type="multipart/form-data",
            response=ex.PROOFS,
            status=201,
        ),
    )
    def post(self, request: Request, right_pk: int) -> Response:
        right = self.right(right_pk)
        uploads = [
            proofs.Upload(f.name or "preuve", f.read()) for f in request.FILES.getlist("preuves")
        ]
        with gateway_for(self.organisation) as gateway:
            made = proofs.upload_proofs(
                right=right,
                uploads=uploads,
                gateway=gateway,
                now=_now(),
                actor=Actor.from_request(request),
            )
        return Response(
            {
                "proof_status": right.proof_status,
                "files": [{"name": p.filename, "size": p.size, "sha256": p.sha256} for p in made],
            },
            status=status.HTTP_201_CREATED,
        )


class RightImport(GrdfView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "dry_run": {"type": "boolean"},
                },
                "required": ["file"],
            }
        },
        summary="Declare access rights from a CSV file",
        description="`dry_run` (the default) checks the file only; a large file is imported "
        "as a background job (202).",
        responses={200: dict, 201: dict, 202: JobSerializer, 400: dict, 503: dict},
        examples=[
            *examples(
                request={"file": "droits.csv", "dry_run": True},
                request_media_type="multipart/form-data",
                response=ex.IMPORT_REPORT,
            ),
            *examples(response=ex.IMPORT_JOB, status=202, name="As a background job"),
        ],
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationError({"file": [_("fichier CSV obligatoire")]})
        dry_run = str(request.POST.get("dry_run", "true")).lower() in ("1", "true", "oui", "on")
        parsed = csv_import.parse(upload.read(), organisation=self.organisation, today=_today())
        report = {
            "rows": len(parsed.specs),
            "errors": [e.as_json() for e in parsed.errors],
            "dry_run": dry_run,
        }
        if parsed.errors:
            raise Problem(
                status=400,
                # One entry per row and column of the uploaded file (its "line").
                errors=[
                    {"field": e.field, "pointer": "#/file", "reason": e.reason, "line": e.line}
                    for e in parsed.errors
                ],
                rows=report["rows"],
                dry_run=dry_run,
            )
        if dry_run:
            return Response(report)
        if tasks.import_in_background(rows=len(parsed.specs)):
            upload.seek(0)
            return self.start_job(
                kind=tasks.IMPORT_JOB,
                task=tasks.import_job,
                params={
                    "rows": len(parsed.specs),
                    "content": base64.b64encode(upload.read()).decode("ascii"),
                    "ip": client_ip(request._request),
                },
            )
        with gateway_for(self.organisation) as gateway:
            rights = services.declare_rights(
                organisation=self.organisation,
                specs=[s for _line, s in parsed.specs],
                gateway=gateway,
                now=_now(),
                actor=Actor.from_request(request),
            )
        return Response(
            {**report, "rights": RightSerializer(rights, many=True).data},
            status=status.HTTP_201_CREATED,
        )


class ImportTemplate(GrdfView):
    @extend_schema(
        summary="Download the CSV template of the rights import",
        responses={(200, "text/csv"): str},
        examples=examples(response=ex.IMPORT_TEMPLATE, response_media_type="text/csv"),
    )
    def get(self, request: Request) -> HttpResponse:
        response = HttpResponse(csv_import.template(today=_today()), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="modele-droits-acces.csv"'
        return response


class Export(GrdfView):
    write_role = Role.VIEWER  # a POST only to carry the choice of PCEs: exporting reads

    @extend_schema(
        summary="Export PCEs' data as CSV or XLSX",
        description="A small export answers the file; a large one is a background job (202).",
        request=ExportQuery,
        responses={
            (200, "text/csv"): str,
            202: JobSerializer,
            403: dict,
            404: UNKNOWN_PCE,
            503: dict,
        },
        examples=[
            *examples(request=ex.EXPORT_IN, response=ex.EXPORT_CSV, response_media_type="text/csv"),
            *examples(response=ex.EXPORT_JOB, status=202, name="As a background job"),
        ],
    )
    def post(self, request: Request) -> HttpResponse | Response:
        query = ExportQuery(data=request.data)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        try:
            # The hub's own PCE rules: "gi123456" and "GI 123456" are one PCE, asked once.
            identifiers = {normalise("gas_pce", p) for p in q["pces"]}
        except InvalidIdentifier as exc:
            raise ValidationError({"pces": [exc.reason]}) from None
        found = list(
            selectors.pces(organisation=self.organisation)
            .filter(metering_point__identifier__in=identifiers)
            .prefetch_related("rights__pce")
        )
        if len(found) != len(identifiers):
            raise Http404  # a PCE of another organisation is as good as unknown
        if tasks.export_in_background(pces=len(found), start=q["start"], end=q["end"]):
            return self.start_job(
                kind=tasks.EXPORT_JOB,
                task=tasks.export_job,
                params={
                    "pces": sorted(identifiers),
                    "types": list(q["types"]),
                    "start": q["start"].isoformat(),
                    "end": q["end"].isoformat(),
                    "format": q["format"],
                },
            )
        return export_response(
            pces=found, types=q["types"], start=q["start"], end=q["end"], fmt=q["format"]
        )


def export_response(
    *, pces: list[Pce], types: list[str], start: dt.date, end: dt.date, fmt: str
) -> HttpResponse | Response:
    try:
        if fmt == "xlsx":
            body: bytes | str = export.to_xlsx(
                pces=pces, types=types, start=start, end=end, today=_today()
            )
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body = export.to_csv(pces=pces, types=types, start=start, end=end, today=_today())
            content_type = "text/csv; charset=utf-8"
    except selectors.OutsideConsent as exc:
        return _forbidden(exc)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="grdf-{start}-{end}.{fmt}"'
    return response


class ThresholdList(GrdfView):
    @page_of(ThresholdSerializer)
    @extend_schema(
        summary="List the consumption thresholds",
        examples=examples(response=page_example(ex.THRESHOLD)),
    )
    def get(self, request: Request) -> Response:
        found = Threshold.objects.filter(organisation=self.organisation).select_related(
            "pce__metering_point"
        )
        return paginated(self, request, found, serializer=ThresholdSerializer)

    @extend_schema(
        summary="Set a consumption threshold on a PCE",
        request=ThresholdSerializer,
        responses={201: ThresholdSerializer, 404: UNKNOWN_PCE},
        examples=examples(request=ex.THRESHOLD_IN, response=ex.THRESHOLD, status=201),
    )
    def post(self, request: Request) -> Response:
        data = ThresholdSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        pce = self.pce(v["pce"]["identifier"])
        made = thresholds.save_threshold(
            organisation=self.organisation,
            pce=pce,
            frequency=v["frequency"],
            value_kwh=v["value_kwh"],
            notify_before=v.get("notify_before", False),
            before_percent=v.get("before_percent", 80),
            notify_after=v.get("notify_after", True),
            emails=v.get("email_list", []),
            actor=Actor.from_request(request),
            now=_now(),
        )
        return Response(ThresholdSerializer(made).data, status=status.HTTP_201_CREATED)


class ThresholdDetail(GrdfView):
    @extend_schema(
        summary="Read one threshold",
        responses={200: ThresholdSerializer},
        examples=examples(response=ex.THRESHOLD),
    )
    def get(self, request: Request, threshold_pk: int) -> Response:
        found = get_object_or_404(Threshold, pk=threshold_pk, organisation=self.organisation)
        return Response(ThresholdSerializer(found).data)

    @extend_schema(summary="Delete a threshold", responses={204: None})
    def delete(self, request: Request, threshold_pk: int) -> Response:
        found = get_object_or_404(Threshold, pk=threshold_pk, organisation=self.organisation)
        thresholds.delete_threshold(threshold=found, actor=Actor.from_request(request), now=_now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionSerializer(serializers.ModelSerializer[Subscription]):
    pce = serializers.CharField(source="pce.identifier")

    class Meta:
        model = Subscription
        fields = ["id", "pce", "kind", "state", "start", "end", "grdf_id"]
        read_only_fields = ["state", "grdf_id"]


class SubscriptionList(GrdfView):
    @page_of(SubscriptionSerializer)
    @extend_schema(
        summary="List the TJDC and PPH subscriptions",
        examples=examples(response=page_example(ex.SUBSCRIPTION)),
    )
    def get(self, request: Request) -> Response:
        found = Subscription.objects.filter(organisation=self.organisation).select_related(
            "pce__metering_point"
        )
        return paginated(self, request, found, serializer=SubscriptionSerializer)

    @extend_schema(
        summary="Subscribe a PCE to TJDC or PPH at GRDF",
        request=SubscriptionSerializer,
        responses={201: SubscriptionSerializer, 404: UNKNOWN_PCE},
        examples=examples(request=ex.SUBSCRIPTION_IN, response=ex.SUBSCRIPTION, status=201),
    )
    def post(self, request: Request) -> Response:
        data = SubscriptionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        pce = self.pce(v["pce"]["identifier"])
        with gateway_for(self.organisation) as gateway:
            made = services.subscribe(
                pce=pce,
                kind=v["kind"],
                start=v["start"],
                end=v.get("end"),
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
        return Response(SubscriptionSerializer(made).data, status=status.HTTP_201_CREATED)


class SubscriptionCancel(GrdfView):
    @extend_schema(
        summary="Cancel a subscription at GRDF",
        request=None,
        responses={200: SubscriptionSerializer},
        examples=examples(response=ex.SUBSCRIPTION_CANCELLED),
    )
    def post(self, request: Request, subscription_pk: int) -> Response:
        found = get_object_or_404(Subscription, pk=subscription_pk, organisation=self.organisation)
        with gateway_for(self.organisation) as gateway:
            services.cancel_subscription(
                subscription=found,
                gateway=gateway,
                now=_now(),
                today=_today(),
                actor=Actor.from_request(request),
            )
        return Response(SubscriptionSerializer(found).data)


class LongEstimated(GrdfView):
    @page_of(
        inline_serializer(
            "LongEstimatedPce",
            fields={
                "pce": serializers.CharField(),
                "last_measured": serializers.DateField(allow_null=True),
                "months_estimated": serializers.IntegerField(allow_null=True),
                "consecutive_estimated": serializers.IntegerField(),
            },
        )
    )
    @extend_schema(
        summary="List the PCEs read on estimates for months",
        examples=examples(response=page_example(ex.LONG_ESTIMATED)),
    )
    def get(self, request: Request) -> Response:
        found = selectors.long_estimated(organisation=self.organisation, today=_today())
        return paginated(
            self,
            request,
            found,
            lambda page: [
                {
                    "pce": e.pce.identifier,
                    "last_measured": e.last_measured.isoformat() if e.last_measured else None,
                    "months_estimated": e.months_estimated,
                    "consecutive_estimated": e.consecutive_estimated,
                }
                for e in page
            ],
        )


class Sync(GrdfView):
    @extend_schema(
        summary="Synchronise with GRDF now",
        request=inline_serializer(
            "GrdfSyncIn",
            fields={"pces": serializers.ListField(child=serializers.CharField(), required=False)},
        ),
        responses={202: JobSerializer, 503: dict},
        examples=examples(request=ex.SYNC_IN, response=ex.SYNC_JOB, status=202),
    )
    def post(self, request: Request) -> Response:
        """Rights then data, now, as a background job: 202 and the job to follow."""
        pces = request.data.get("pces", []) if isinstance(request.data, dict) else []
        if not isinstance(pces, list):
            raise ValidationError({"pces": [_("liste de PCE attendue")]})
        return self.start_job(
            kind=tasks.SYNC_JOB,
            task=tasks.sync_job,
            params={"pces": [str(p) for p in pces]},
        )
