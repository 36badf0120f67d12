"""REST API of the VEGA calendar and publication watch, under ``/api/v1/grdf/vega/``.

The catalogue is the same for everyone; usages, expected publications, arrivals and PCE
requests are the caller's organisation's (another's id answers 404). Changes need an operator
or a ``write`` token and are audited. Bad input answers 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grdf_access import selectors
from grdf_access.vega import api_examples as ex
from grdf_access.vega import calendar, estimates, exports, watch
from grdf_access.vega.models import (
    Arrival,
    ArrivalSource,
    Cadence,
    CatalogueItem,
    ExpectedPublication,
    MissedPublication,
    Release,
    Usage,
)
from hub.actors import Actor
from hub.api.pagination import paginated
from hub.api.permissions import OrganisationRole
from hub.api.problems import Problem
from hub.api.schema import examples, page_example, page_of
from hub.clock import local_day_of
from hub.models import Organisation
from hub.netaddr import client_ip
from hub.tenancy import current_organisation


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


class VegaView(APIView):
    permission_classes = [OrganisationRole]

    @property
    def organisation(self) -> Organisation:
        return current_organisation(self.request)

    def ip(self) -> str | None:
        return client_ip(self.request._request)


def _item(code: str, field: str = "code") -> CatalogueItem:
    item = calendar.find_item(code)
    if item is None:
        raise ValidationError({field: [_("flux ou service inconnu du catalogue")]})
    return item


# -- catalogue ----------------------------------------------------------------------------------


class ReleaseSerializer(serializers.ModelSerializer[Release]):
    history = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = ["code", "planned_date", "date_precision", "date_status", "note", "history"]

    def get_history(self, release: Release) -> list[dict[str, Any]]:
        return [
            {
                "previous_date": c.previous_date,
                "previous_status": c.previous_status,
                "date": c.date,
                "date_precision": c.date_precision,
                "status": c.status,
                "announced_on": c.announced_on,
                "note": c.note,
                "changed_at": c.changed_at,
            }
            for c in release.date_changes.all()
        ]


class CatalogueItemSerializer(serializers.ModelSerializer[CatalogueItem]):
    releases = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    double_run = serializers.SerializerMethodField()
    decommissioned_in = serializers.SlugRelatedField[Release](
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = CatalogueItem
        fields = [
            "kind",
            "code",
            "aliases",
            "name",
            "obsolete",
            "releases",
            "versions",
            "replacement",
            "double_run",
            "decommissioned_in",
            "recommendation",
            "notes",
        ]

    def get_releases(self, item: CatalogueItem) -> dict[str, str]:
        return {c.release.code: c.value for c in item.cells.all()}

    def get_versions(self, item: CatalogueItem) -> list[dict[str, Any]]:
        return [
            {
                "version": v.version,
                "superseded_in": v.superseded_in.code if v.superseded_in else None,
                "ends_in": v.ends_in.code if v.ends_in else None,
                "end_is_proposal": v.end_is_proposal,
            }
            for v in item.versions.all()
        ]

    def get_double_run(self, item: CatalogueItem) -> str:
        return calendar.double_run_label(item)


class Catalogue(VegaView):
    @page_of(CatalogueItemSerializer)
    @extend_schema(
        summary="List the VEGA catalogue (publications and web services)",
        description="Each item's version per release, its double run and GRDF's "
        "recommendation, from GRDF's slides of 2 December 2025.",
        examples=examples(response=page_example(ex.CATALOGUE_ITEM)),
    )
    def get(self, request: Request) -> Response:
        items = CatalogueItem.objects.select_related("decommissioned_in").prefetch_related(
            "cells__release", "versions__superseded_in", "versions__ends_in"
        )
        return paginated(self, request, items, serializer=CatalogueItemSerializer)


class Releases(VegaView):
    @page_of(ReleaseSerializer)
    @extend_schema(
        summary="List GRDF's releases with their dates' history",
        examples=examples(response=page_example(ex.RELEASE)),
    )
    def get(self, request: Request) -> Response:
        found = Release.objects.prefetch_related("date_changes")
        return paginated(self, request, found, serializer=ReleaseSerializer)


# -- usages and the migration view --------------------------------------------------------------


class UsageSerializer(serializers.ModelSerializer[Usage]):
    code = serializers.CharField(source="item.code")

    class Meta:
        model = Usage
        fields = ["id", "code", "version", "note", "updated_at"]
        read_only_fields = ["updated_at"]


class UsageIn(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=60)
    version = serializers.CharField(max_length=20)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _save_usage(view: VegaView, data: Any, item: CatalogueItem | None = None) -> Usage:
    query = UsageIn(data=data)
    query.is_valid(raise_exception=True)
    v = query.validated_data
    wanted = _item(v["code"])
    if item is not None and wanted != item:
        raise ValidationError({"code": [_("le flux ou service d'un usage ne change pas")]})
    try:
        return calendar.save_usage(
            organisation=view.organisation,
            item=wanted,
            version=v["version"],
            note=v["note"],
            actor=Actor.from_request(view.request),
            now=_now(),
        )
    except calendar.UnknownVersion as exc:
        raise ValidationError({"version": [str(exc)]}) from None


class UsageList(VegaView):
    @page_of(UsageSerializer)
    @extend_schema(
        summary="List what the organisation uses, with its version",
        examples=examples(response=page_example(ex.USAGE)),
    )
    def get(self, request: Request) -> Response:
        found = Usage.objects.filter(organisation=self.organisation).select_related("item")
        return paginated(self, request, found, serializer=UsageSerializer)

    @extend_schema(
        summary="Declare a publication or web service the organisation uses",
        request=UsageIn,
        responses={201: UsageSerializer},
        examples=examples(request=ex.USAGE_IN, response=ex.USAGE, status=201),
    )
    def post(self, request: Request) -> Response:
        usage = _save_usage(self, request.data)
        return Response(UsageSerializer(usage).data, status=status.HTTP_201_CREATED)


class UsageDetail(VegaView):
    def usage(self, usage_pk: int) -> Usage:
        return get_object_or_404(
            Usage.objects.select_related("item"), pk=usage_pk, organisation=self.organisation
        )

    @extend_schema(
        summary="Read one usage",
        responses={200: UsageSerializer},
        examples=examples(response=ex.USAGE),
    )
    def get(self, request: Request, usage_pk: int) -> Response:
        return Response(UsageSerializer(self.usage(usage_pk)).data)

    @extend_schema(
        summary="Change a usage's version or note",
        request=UsageIn,
        responses={200: UsageSerializer},
        examples=examples(request=ex.USAGE_IN, response=ex.USAGE),
    )
    def put(self, request: Request, usage_pk: int) -> Response:
        current = self.usage(usage_pk)
        return Response(UsageSerializer(_save_usage(self, request.data, current.item)).data)

    @extend_schema(summary="Delete a usage", responses={204: None})
    def delete(self, request: Request, usage_pk: int) -> Response:
        calendar.delete_usage(
            usage=self.usage(usage_pk), actor=Actor.from_request(request), now=_now()
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


EXPORT_PARAM = OpenApiParameter("export", str, enum=["csv", "xlsx"], required=False)


def export_response(*, rows: list[list[Any]], header: list[str], kind: str, name: str) -> Any:
    if kind == "csv":
        response = HttpResponse(
            exports.to_csv(header=header, rows=rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if kind == "xlsx":
        response = HttpResponse(
            exports.to_xlsx(header=header, rows=rows, sheet=name[:31]),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
        return response
    raise ValidationError({"export": [_("csv ou xlsx")]})


class MigrationRowSerializer(serializers.Serializer[Any]):
    """A row as `calendar.MigrationRow.as_dict` writes it (documentation only)."""

    code = serializers.CharField()
    nature = serializers.CharField()
    version = serializers.CharField()
    nouvelle_version_en = serializers.CharField(allow_null=True)
    fin_en = serializers.CharField(allow_null=True)
    fin_proposee = serializers.BooleanField()
    date_fin = serializers.DateField(allow_null=True)
    statut_date = serializers.CharField()
    jours_restants = serializers.IntegerField(allow_null=True)
    remplacement = serializers.CharField(allow_blank=True)
    double_run = serializers.CharField(allow_blank=True)
    preconisation = serializers.CharField(allow_blank=True)
    statut = serializers.CharField()


class Migration(VegaView):
    @page_of(MigrationRowSerializer, other_media={"text/csv": OpenApiTypes.STR})
    @extend_schema(
        parameters=[EXPORT_PARAM],
        summary="What the organisation must change, by when",
        description="One row per usage, most urgent first; `export=csv|xlsx` downloads it.",
        examples=examples(response=page_example(ex.MIGRATION_ROW)),
    )
    def get(self, request: Request) -> Any:
        rows = calendar.migration_rows(organisation=self.organisation, today=local_day_of(_now()))
        kind = request.query_params.get("export")
        if kind:
            return export_response(
                rows=exports.migration_table(rows),
                header=exports.MIGRATION_HEADER,
                kind=kind,
                name="vega-migration",
            )
        return paginated(self, request, rows, lambda page: [r.as_dict() for r in page])


# -- publication watch --------------------------------------------------------------------------


class ExpectedSerializer(serializers.ModelSerializer[ExpectedPublication]):
    code = serializers.CharField(source="item.code")

    class Meta:
        model = ExpectedPublication
        fields = [
            "id",
            "code",
            "cadence",
            "weekday",
            "day_of_month",
            "expected_time",
            "grace_minutes",
            "active",
        ]


class ExpectedIn(serializers.Serializer[Any]):
    code = serializers.CharField(max_length=60)
    cadence = serializers.ChoiceField(choices=Cadence.values)
    expected_time = serializers.TimeField()
    weekday = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=6)
    day_of_month = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=31
    )
    grace_minutes = serializers.IntegerField(
        required=False, default=30, min_value=0, max_value=1440
    )


class ExpectedList(VegaView):
    @page_of(ExpectedSerializer)
    @extend_schema(
        summary="List the publications expected, with their cadence",
        examples=examples(response=page_example(ex.EXPECTED)),
    )
    def get(self, request: Request) -> Response:
        found = ExpectedPublication.objects.filter(organisation=self.organisation).select_related(
            "item"
        )
        return paginated(self, request, found, serializer=ExpectedSerializer)

    @extend_schema(
        summary="Expect a publication at a cadence (late: milestone alarm)",
        request=ExpectedIn,
        responses={201: ExpectedSerializer},
        examples=examples(request=ex.EXPECTED_IN, response=ex.EXPECTED, status=201),
    )
    def post(self, request: Request) -> Response:
        query = ExpectedIn(data=request.data)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        try:
            made = watch.save_expected(
                organisation=self.organisation,
                item=_item(v["code"]),
                cadence=v["cadence"],
                expected_time=v["expected_time"],
                weekday=v.get("weekday"),
                day_of_month=v.get("day_of_month"),
                grace_minutes=v["grace_minutes"],
                actor=Actor.from_request(request),
                now=_now(),
            )
        except watch.ArrivalRefused as exc:
            raise ValidationError({exc.field: [exc.reason]}) from None
        return Response(ExpectedSerializer(made).data, status=status.HTTP_201_CREATED)


class ExpectedDetail(VegaView):
    @extend_schema(
        summary="Read one expected publication",
        responses={200: ExpectedSerializer},
        examples=examples(response=ex.EXPECTED),
    )
    def get(self, request: Request, expected_pk: int) -> Response:
        found = get_object_or_404(
            ExpectedPublication.objects.select_related("item"),
            pk=expected_pk,
            organisation=self.organisation,
        )
        return Response(ExpectedSerializer(found).data)

    @extend_schema(summary="Stop expecting a publication", responses={204: None})
    def delete(self, request: Request, expected_pk: int) -> Response:
        found = get_object_or_404(
            ExpectedPublication, pk=expected_pk, organisation=self.organisation
        )
        watch.delete_expected(expected=found, actor=Actor.from_request(request), now=_now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArrivalSerializer(serializers.ModelSerializer[Arrival]):
    class Meta:
        model = Arrival
        fields = [
            "id",
            "flux_code",
            "version",
            "file_name",
            "size",
            "rows",
            "data_rows",
            "sha256",
            "source",
            "publication_day",
            "received_at",
            "retain_until",
            "file_purged_at",
            "parser",
            "gas_days",
            "empty_values",
            "issues",
        ]


class ArrivalIn(serializers.Serializer[Any]):
    file = serializers.FileField(allow_empty_file=True)


class ArrivalList(VegaView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @page_of(ArrivalSerializer)
    @extend_schema(
        summary="List the publications received (latest 500)",
        examples=examples(response=page_example(ex.ARRIVAL)),
    )
    def get(self, request: Request) -> Response:
        found = Arrival.objects.filter(organisation=self.organisation)[:500]
        return paginated(self, request, found, serializer=ArrivalSerializer)

    @extend_schema(
        summary="Hand over a publication file received from GRDF",
        description="Kept, checked (format-free quality checks) and matched to what is expected.",
        request={"multipart/form-data": ArrivalIn},
        responses={201: ArrivalSerializer},
        examples=examples(
            request={"file": "TJDC_V2_20260114.csv"},
            request_media_type="multipart/form-data",
            response=ex.ARRIVAL,
            status=201,
        ),
    )
    def post(self, request: Request) -> Response:
        query = ArrivalIn(data=request.data)
        query.is_valid(raise_exception=True)
        upload = query.validated_data["file"]
        if upload.size > settings.VEGA_MAX_FILE_BYTES:
            raise ValidationError({"file": [_("fichier trop gros")]})
        try:
            made = watch.ingest(
                organisation=self.organisation,
                name=upload.name,
                data=upload.read(),
                source=ArrivalSource.API,
                actor=Actor.from_request(request),
                now=_now(),
            )
        except watch.ArrivalRefused as exc:
            raise ValidationError({exc.field: [exc.reason]}) from None
        return Response(ArrivalSerializer(made).data, status=status.HTTP_201_CREATED)


class ArrivalDetail(VegaView):
    @extend_schema(
        summary="Read one received publication",
        responses={200: ArrivalSerializer},
        examples=examples(response=ex.ARRIVAL),
    )
    def get(self, request: Request, arrival_pk: int) -> Response:
        found = get_object_or_404(Arrival, pk=arrival_pk, organisation=self.organisation)
        return Response(ArrivalSerializer(found).data)


class Missed(VegaView):
    @page_of(
        inline_serializer(
            "MissedPublication",
            fields={
                "code": serializers.CharField(),
                "day": serializers.DateField(),
                "due_at": serializers.DateTimeField(),
                "detected_at": serializers.DateTimeField(),
                "arrived_at": serializers.DateTimeField(allow_null=True),
            },
        )
    )
    @extend_schema(
        summary="List the publications that came late or not at all (latest 500)",
        examples=examples(response=page_example(ex.MISSED)),
    )
    def get(self, request: Request) -> Response:
        found = MissedPublication.objects.filter(organisation=self.organisation).select_related(
            "expected__item"
        )
        return paginated(
            self,
            request,
            found,
            lambda page: [
                {
                    "code": m.expected.item.code,
                    "day": m.day,
                    "due_at": m.due_at,
                    "detected_at": m.detected_at,
                    "arrived_at": m.arrived_at,
                }
                for m in page
            ],
        )


# -- long-estimated PCEs ------------------------------------------------------------------------


class LongEstimated(VegaView):
    @extend_schema(
        parameters=[EXPORT_PARAM],
        summary="PCEs eligible for a free special reading",
        description="Long-estimated PCEs and GRDF's monthly list compared; `export=csv|xlsx` "
        "downloads the table.",
        responses={(200, "application/json"): dict, (200, "text/csv"): OpenApiTypes.STR},
        examples=examples(response=ex.LONG_ESTIMATED),
    )
    def get(self, request: Request) -> Any:
        today = local_day_of(_now())
        rows = estimates.eligibility(organisation=self.organisation, today=today)
        kind = request.query_params.get("export")
        if kind:
            return export_response(
                rows=[[r.as_dict()[k] for k in estimates.EXPORT_HEADER] for r in rows],
                header=estimates.EXPORT_HEADER,
                kind=kind,
                name="vega-pce-estimes",
            )
        return Response(
            {
                "pces": [r.as_dict() for r in rows],
                "differences": estimates.differences(
                    organisation=self.organisation, today=today
                ).as_dict(),
            }
        )


class ListImportIn(serializers.Serializer[Any]):
    file = serializers.FileField()
    mois = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$")


class LongEstimatedImport(VegaView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import GRDF's monthly list of long-estimated PCEs",
        request={"multipart/form-data": ListImportIn},
        responses={201: dict, 400: dict},
        examples=examples(
            request=ex.LIST_IMPORT_IN,
            request_media_type="multipart/form-data",
            response=ex.LIST_IMPORTED,
            status=201,
        ),
    )
    def post(self, request: Request) -> Response:
        query = ListImportIn(data=request.data)
        query.is_valid(raise_exception=True)
        upload = query.validated_data["file"]
        if upload.size > estimates.MAX_BYTES:
            raise ValidationError({"file": [_("fichier trop gros")]})
        rows, errors = estimates.parse_list(upload.read())
        if errors:
            # One entry per line and column of the uploaded list.
            raise Problem(
                status=400,
                errors=[
                    {"field": e.field, "pointer": "#/file", "reason": e.reason, "line": e.line}
                    for e in errors
                ],
                imported=0,
            )
        listing = estimates.import_list(
            organisation=self.organisation,
            month=dt.date.fromisoformat(query.validated_data["mois"] + "-01"),
            file_name=upload.name,
            rows=rows,
            actor=Actor.from_request(request),
            now=_now(),
        )
        return Response(
            {"imported": len(rows), "list_id": listing.pk, "errors": []},
            status=status.HTTP_201_CREATED,
        )


class RequestIn(serializers.Serializer[Any]):
    pce = serializers.CharField(max_length=20)
    requested_on = serializers.DateField()
    reference = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class SpecialReadings(VegaView):
    @extend_schema(
        summary="Record a special reading asked of GRDF",
        request=RequestIn,
        responses={
            201: dict,
            404: OpenApiResponse(description="The PCE is not the organisation's."),
        },
        examples=examples(request=ex.READING_IN, response=ex.READING, status=201),
    )
    def post(self, request: Request) -> Response:
        query = RequestIn(data=request.data)
        query.is_valid(raise_exception=True)
        v = query.validated_data
        try:
            pce = selectors.pce(organisation=self.organisation, identifier=v["pce"])
        except selectors.NotFound:
            raise Http404 from None
        try:
            made = estimates.record_request(
                organisation=self.organisation,
                pce=pce,
                requested_on=v["requested_on"],
                reference=v["reference"],
                note=v["note"],
                actor=Actor.from_request(request),
                now=_now(),
                today=local_day_of(_now()),
            )
        except estimates.RequestRefused as exc:
            raise ValidationError({exc.field: [exc.reason]}) from None
        return Response(
            {"id": made.pk, "pce": pce.identifier, "requested_on": made.requested_on},
            status=status.HTTP_201_CREATED,
        )
