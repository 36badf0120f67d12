from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotAcceptable, PermissionDenied
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from hub.actors import Actor
from hub.api import examples as ex
from hub.api import points_output
from hub.api import serializers as api
from hub.api.auth import UNCHECKED, ApiTokenAuthentication
from hub.api.filters import MAX_ID, FilterSet, IdFilter
from hub.api.permissions import OrganisationRole
from hub.api.schema import examples
from hub.models import Aggregate, ApiToken, MeteringPoint, Series, Site
from hub.selectors.series import Step
from hub.series_access import guarded_sources, refusal
from hub.services import audit, tokens
from hub.services.series import PointIn, upsert_points
from hub.tenancy import current_organisation


class OrganisationScopedMixin(generics.GenericAPIView):
    """Every queryset is filtered by the caller's organisation: a foreign id answers 404."""

    organisation_path = "organisation"

    def scoped(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(**{self.organisation_path: current_organisation(self.request)})

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "organisation": current_organisation(self.request),
        }

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        with _constraint_errors_as_400():
            serializer.save(organisation=current_organisation(self.request))

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        with _constraint_errors_as_400():
            serializer.save()


class TokenCheckedListMixin(
    OrganisationScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """A list whose page is read with the token this process remembers (``tokens.remembered``)
    and proves it: the page's query keeps its rows only while the token's row still says what
    was remembered (``tokens.unchanged_sql``), which spares the token's own statement and round
    trip. An empty list, or a refusal, proves nothing: the token is then authenticated again
    from its row (a 401 or 403 when it no longer may) and the list answered as any other."""

    def checks_token(self, request: Request) -> bool:
        # The expression is PostgreSQL's (jsonb): elsewhere the token is checked first.
        return self.action == "list" and connection.vendor == "postgresql"

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = request.auth
        if isinstance(token, ApiToken) and getattr(request._request, UNCHECKED, False):
            page = None
            try:
                check, params = tokens.unchanged_sql(token, now=timezone.now())
                queryset = self.filter_queryset(self.get_queryset())
                page = self.paginate_queryset(
                    # The service's own statement; the token's values are parameters.
                    queryset.filter(RawSQL(check, params, output_field=BooleanField()))  # noqa: S611
                )
            except APIException:
                pass  # a bad filter: answered once the token is known to be usable
            # Rows, or a positive count (a page past the end counts with the same check).
            count: int = getattr(self.paginator, "count", 0)
            if page is not None and (len(page) > 0 or count > 0):
                setattr(request._request, UNCHECKED, False)
                return self.get_paginated_response(self.get_serializer(page, many=True).data)
            ApiTokenAuthentication().authenticate_again(request)
            self.check_permissions(request)
        return super().list(request, *args, **kwargs)


@contextmanager
def _constraint_errors_as_400() -> Iterator[None]:
    # Serializers check what they can; a race with another writer still ends as a 400.
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        raise serializers.ValidationError(
            {"non_field_errors": [_("conflicts with stored data (already exists?)")]}
        ) from exc


class Ping(generics.GenericAPIView):
    """The smallest endpoint behind the API's authentication, permission and throttles: a
    client checks its token with it, and ``bench/api_load.py`` measures the floor with it."""

    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="Check a token",
        responses={200: dict},
        examples=examples(response=ex.PING),
    )
    def get(self, request: Request) -> Response:
        return Response({"ok": True, "organisation": current_organisation(request).slug})


@extend_schema_view(
    list=extend_schema(
        summary="List the organisation's sites", examples=examples(response=ex.SITE)
    ),
    retrieve=extend_schema(summary="Read one site", examples=examples(response=ex.SITE)),
    create=extend_schema(
        summary="Create a site", examples=examples(request=ex.SITE_IN, response=ex.SITE, status=201)
    ),
    update=extend_schema(
        summary="Replace a site", examples=examples(request=ex.SITE_IN, response=ex.SITE)
    ),
    partial_update=extend_schema(
        summary="Change some fields of a site",
        examples=examples(request={"city": "Lyon"}, response=ex.SITE),
    ),
    destroy=extend_schema(summary="Delete a site"),
)
class SiteViewSet(TokenCheckedListMixin, viewsets.ModelViewSet):
    queryset = Site.objects.none()  # the model for the schema; requests use get_queryset()
    serializer_class = api.SiteSerializer
    permission_classes = [OrganisationRole]

    def get_queryset(self) -> QuerySet[Site]:
        return self.scoped(Site.objects.all())


class MeteringPointFilter(FilterSet):
    # Ids, not model choices: a choice field answers 400 for an id that does not exist and
    # 200 (empty, the queryset being scoped) for another organisation's, telling them apart.
    site = IdFilter(field_name="site_id")

    class Meta:
        model = MeteringPoint
        fields = ["kind", "site", "identifier"]


class SeriesFilter(FilterSet):
    metering_point = IdFilter(field_name="metering_point_id")

    class Meta:
        model = Series
        fields = ["metering_point", "quantity", "source"]


@extend_schema_view(
    list=extend_schema(
        summary="List the organisation's metering points",
        examples=examples(response=ex.METERING_POINT),
    ),
    retrieve=extend_schema(
        summary="Read one metering point", examples=examples(response=ex.METERING_POINT)
    ),
    create=extend_schema(
        summary="Create a metering point",
        examples=examples(request=ex.METERING_POINT_IN, response=ex.METERING_POINT, status=201),
    ),
    update=extend_schema(
        summary="Replace a metering point",
        examples=examples(request=ex.METERING_POINT_IN, response=ex.METERING_POINT),
    ),
    partial_update=extend_schema(
        summary="Change some fields of a metering point",
        examples=examples(
            request={"label": "Bâtiment A — PRM principal"}, response=ex.METERING_POINT
        ),
    ),
    destroy=extend_schema(summary="Delete a metering point"),
)
class MeteringPointViewSet(TokenCheckedListMixin, viewsets.ModelViewSet):
    queryset = MeteringPoint.objects.none()
    serializer_class = api.MeteringPointSerializer
    permission_classes = [OrganisationRole]
    filterset_class = MeteringPointFilter

    def get_queryset(self) -> QuerySet[MeteringPoint]:
        return self.scoped(MeteringPoint.objects.all())

    def perform_destroy(self, instance: MeteringPoint) -> None:
        # What the apps attach to a point PROTECTs it: the delete raises before any row goes.
        with transaction.atomic():
            audit.record(
                action="metering_point.deleted",
                actor=Actor.from_request(self.request),
                organisation=instance.organisation,
                target=instance,
                before={"kind": instance.kind, "identifier": instance.identifier},
            )
            instance.delete()


class PointsNegotiation(DefaultContentNegotiation):
    """The points' formats are chosen by the view (``points_output.negotiate``): DRF's own
    ``?format=`` handling (404 for a format no renderer has) stays out of it; errors render
    as JSON."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type or "application/json"


@extend_schema_view(
    list=extend_schema(
        summary="List the organisation's series", examples=examples(response=ex.SERIES)
    ),
    retrieve=extend_schema(summary="Read one series", examples=examples(response=ex.SERIES)),
)
class SeriesViewSet(TokenCheckedListMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Series.objects.none()
    serializer_class = api.SeriesSerializer
    permission_classes = [OrganisationRole]
    organisation_path = "metering_point__organisation"
    filterset_class = SeriesFilter

    def get_queryset(self) -> QuerySet[Series]:
        return self.scoped(Series.objects.all())

    @extend_schema(
        parameters=[api.PointsQuerySerializer],
        responses={
            (200, "application/json"): api.PointsResponseSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, points_output.MEDIA_TYPES[points_output.Format.ARROW]): OpenApiTypes.BINARY,
            (200, points_output.MEDIA_TYPES[points_output.Format.PARQUET]): OpenApiTypes.BINARY,
        },
        summary="Read a series' points",
        examples=[
            *examples(response=ex.POINTS),
            *examples(response=ex.POINTS_CSV, response_media_type="text/csv"),
        ],
        description="Points of the series in [start, end), raw or resampled by the database, "
        "as JSON, CSV, Apache Arrow (IPC stream) or Parquet (`format`, else `Accept`).",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=PointsNegotiation)
    def points(self, request: Request, pk: str | None = None) -> HttpResponseBase:
        fast = self._raw_json_read(request, pk)
        if fast is not None:
            return fast
        if getattr(request._request, UNCHECKED, False):
            ApiTokenAuthentication().authenticate_again(request)
            self.check_permissions(request)
        series = self.get_object()
        query = api.PointsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            fmt = points_output.negotiate(
                requested=query.validated_data.get("format"),
                accept=request.headers.get("Accept", ""),
            )
        except points_output.NotAcceptable as exc:
            raise NotAcceptable(str(exc)) from exc
        step = Step(query.validated_data["step"])
        aggregate = query.validated_data.get("aggregate")
        reason = refusal(
            series=series,
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            now=timezone.now(),
        )
        if reason:
            raise PermissionDenied(reason)
        return points_output.respond(
            fmt=fmt,
            series=series,
            start=query.validated_data["start"],
            end=query.validated_data["end"],
            step=step,
            aggregate=Aggregate(aggregate) if aggregate else None,
        )

    def checks_token(self, request: Request) -> bool:
        """The points' reads check a remembered token themselves (``ApiTokenAuthentication``):
        in their query, or by authenticating again before any other; so do the lists."""
        return (self.action == "points" and request.method == "GET") or super().checks_token(
            request
        )

    def _raw_json_read(self, request: Request, pk: str | None) -> HttpResponseBase | None:
        """The most frequent read, raw points as JSON: the series with the remembered token's
        check, then its points streamed once every check has passed; ``None`` for any other
        read or outcome but a 404 and a refusal, which the general path then answers."""
        # Series filters or an aggregate in the query string: the general path (None).
        instants = api.raw_json_range(request.query_params)
        if (
            connection.vendor != "postgresql"
            or pk is None
            or not pk.isdigit()
            # No key is larger; its SQL would fail to cast it (the general path's ORM finds none).
            or int(pk) > MAX_ID
            or instants is None
        ):
            return None
        try:
            fmt = points_output.negotiate(
                requested=request.query_params.get("format"),
                accept=request.headers.get("Accept", ""),
            )
        except points_output.NotAcceptable:
            return None
        if fmt is not points_output.Format.JSON:
            return None
        start, end = instants
        if end <= start:
            return None  # a 400, answered once the token is known to be usable
        token = request.auth if getattr(request._request, UNCHECKED, False) else None
        read = points_output.series_and_raw_points(
            scoped=self.get_queryset(),
            series_id=int(pk),
            start=start,
            end=end,
            not_ahead=guarded_sources(),
            check=("TRUE", [])
            if not isinstance(token, ApiToken)
            else tokens.unchanged_sql(token, now=timezone.now()),
        )
        if not read.allowed:
            return None  # the token's row changed: authenticated again on the general path
        setattr(request._request, UNCHECKED, False)
        if read.series is None:
            raise Http404
        if read.points is None:
            return None
        self.check_object_permissions(request, read.series)
        reason = refusal(series=read.series, start=start, end=end, now=timezone.now())
        if reason:
            raise PermissionDenied(reason)
        return points_output.raw_json(series=read.series, points=read.points)

    @extend_schema(
        summary="Write points into a series",
        description="Idempotent upsert on (series, ts): a provisional value never overwrites "
        "a definitive one.",
        request=api.PointsWriteSerializer,
        responses={200: dict},
        examples=examples(request=ex.POINTS_IN, response=ex.POINTS_WRITTEN),
    )
    @points.mapping.post
    def write_points(self, request: Request, pk: str | None = None) -> Response:
        series = self.get_object()
        payload = api.PointsWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        incoming = payload.validated_data["points"]
        for index, point in enumerate(incoming):
            if point["value"] is not None and not math.isfinite(point["value"]):
                raise serializers.ValidationError(
                    {"points": {str(index): {"value": [_("not finite")]}}}
                )
        written = upsert_points(series=series, points=(PointIn(**p) for p in incoming))
        return Response({"received": len(incoming), "written": written})
