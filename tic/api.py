"""TIC read API, mounted under ``/api/v1/tic/``: meters, a meter's state, events, daily energy.

Series (indexes, power over Td, share of PS, drift, tariff codes) are read through hub's
``/api/v1/series/{id}/points/``; the state answer lists the meter's series ids. A meter of
another organisation answers 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.pagination import paginated
from hub.api.permissions import OrganisationRole
from hub.api.schema import examples, page_example, page_of
from hub.clock import local_day_of
from hub.tenancy import current_organisation
from tic import api_examples as ex
from tic import selectors
from tic.models import EventKind, TicMeter


class EventQuery(serializers.Serializer[Any]):
    kind = serializers.MultipleChoiceField(choices=EventKind.choices, required=False)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": _("must be after start")})
        return attrs


class EnergyQuery(serializers.Serializer[Any]):
    start = serializers.DateField(input_formats=["%Y-%m-%d"], required=False)
    end = serializers.DateField(input_formats=["%Y-%m-%d"], required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("start") and attrs.get("end") and attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"end": _("must be after start")})
        if attrs.get("start") and attrs.get("end") and (attrs["end"] - attrs["start"]).days > 366:
            raise serializers.ValidationError({"end": _("at most 366 days")})
        return attrs


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)  # one seam, so tests pin "now"


class TicPortSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()


class TicMeterSerializer(serializers.Serializer[Any]):
    """A meter as the list answers it (documentation only: the view writes the dict)."""

    id = serializers.IntegerField()
    identifier = serializers.CharField()
    family = serializers.CharField()
    mode = serializers.CharField()
    metering_point_id = serializers.IntegerField(allow_null=True)
    port = TicPortSerializer()
    last_frame_at = serializers.DateTimeField(allow_null=True)
    preavis_active = serializers.BooleanField()
    tariff_periods = serializers.DictField(child=serializers.CharField())
    counters = serializers.DictField(child=serializers.IntegerField())


class TicEventSerializer(serializers.Serializer[Any]):
    """An event as `TicEvent.as_json` writes it (documentation only)."""

    id = serializers.IntegerField()
    meter = serializers.CharField()
    kind = serializers.ChoiceField(choices=EventKind.choices)
    at = serializers.DateTimeField()
    calendar = serializers.CharField(allow_blank=True)
    previous = serializers.CharField(allow_blank=True)
    current = serializers.CharField(allow_blank=True)
    value = serializers.FloatField(allow_null=True)


class MeterScoped(APIView):
    permission_classes = [OrganisationRole]

    def meter(self, pk: int) -> TicMeter:
        found = selectors.meters(organisation=current_organisation(self.request)).filter(pk=pk)
        meter = found.first()
        if meter is None:
            raise Http404
        return meter


class MeterList(MeterScoped):
    @page_of(TicMeterSerializer)
    @extend_schema(
        summary="List the organisation's TIC meters",
        examples=examples(response=page_example(ex.METER)),
    )
    def get(self, request: Request) -> Response:
        rows = selectors.meters(organisation=current_organisation(request))
        return paginated(
            self,
            request,
            rows,
            lambda page: [
                {
                    "id": m.pk,
                    "identifier": m.identifier,
                    "family": m.family,
                    "mode": m.mode,
                    "metering_point_id": m.metering_point_id,
                    "port": {"id": m.port_id, "name": m.port.name, "state": m.port.state},
                    "last_frame_at": m.last_frame_at.isoformat() if m.last_frame_at else None,
                    "preavis_active": m.preavis_active,
                    "tariff_periods": m.tariff_periods,
                    "counters": m.counters(),
                }
                for m in page
            ],
        )


class MeterState(MeterScoped):
    @extend_schema(
        summary="A meter's live state: last values, power against PS, PREAVIS, port",
        description="`series` maps each quantity to its series id, read through "
        "`/api/v1/series/{id}/points/`.",
        responses={200: dict},
        examples=examples(response=ex.STATE),
    )
    def get(self, request: Request, pk: int) -> Response:
        meter = self.meter(pk)
        body = selectors.state(meter=meter)
        body["series"] = selectors.series_of(meter=meter)
        return Response(body)


class MeterEvents(MeterScoped):
    @page_of(TicEventSerializer)
    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, many=True, enum=EventKind.values),
            OpenApiParameter("start", dt.datetime),
            OpenApiParameter("end", dt.datetime),
        ],
        summary="A meter's events, newest first (1,000 at most)",
        examples=examples(response=page_example(*ex.EVENTS)),
    )
    def get(self, request: Request, pk: int) -> Response:
        meter = self.meter(pk)
        query = EventQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        found = selectors.events(
            meter=meter,
            kinds=sorted(query.validated_data.get("kind") or []),
            start=query.validated_data.get("start"),
            end=query.validated_data.get("end"),
        )
        return paginated(self, request, found, lambda page: [event.as_json() for event in page])


class MeterEnergy(MeterScoped):
    @extend_schema(
        parameters=[OpenApiParameter("start", dt.date), OpenApiParameter("end", dt.date)],
        summary="Energy per tariff period per local day (last 7 days by default)",
        responses={200: dict},
        examples=examples(response=ex.ENERGY),
    )
    def get(self, request: Request, pk: int) -> Response:
        meter = self.meter(pk)
        query = EnergyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        today = local_day_of(_now())
        end = query.validated_data.get("end") or today + dt.timedelta(days=1)
        start = query.validated_data.get("start") or end - dt.timedelta(days=7)
        rows = selectors.daily_energy(meter=meter, start=start, end=end)
        return Response(
            {
                "start": start.isoformat(),
                "end": end.isoformat(),
                "results": [
                    {
                        "day": row.day.isoformat(),
                        "calendar": row.calendar,
                        "period": row.period,
                        "energy_wh": round(row.energy_wh, 3),
                    }
                    for row in rows
                ],
            }
        )
