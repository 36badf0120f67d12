"""API of the market signals, under ``/api/v1/``.

* ``POST sessions/{session_id}/cems/commodity/prices`` (Annex 2, "Check Supplier External
  Response"): with ``delivery_point``, ``start_date`` and ``end_date``, what the hub holds for that
  window and its validation status. ``session_id`` is a session of the caller's organisation's
  feeds: any other answers 404.
* ``GET flexready/ecowatt/signals``: the stored Ecowatt days from today on (never a call to RTE).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flexready.market import api_examples as ex
from flexready.market import selectors
from flexready.market.models import SupplierFeed
from flexready.market.services.supplier import FeedSpecError, find_prm
from hub.api.permissions import OrganisationRole
from hub.api.schema import examples
from hub.clock import PARIS
from hub.models import Role
from hub.tenancy import current_organisation

MAX_WINDOW = dt.timedelta(days=31)


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


@extend_schema_field(OpenApiTypes.STR)
class InstantField(serializers.Field):
    """ISO 8601 date-time with an offset, or a date (Paris midnight)."""

    default_error_messages = {"invalid": "not an ISO 8601 date or date-time with an offset"}

    def to_internal_value(self, data: Any) -> dt.datetime:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            if "T" not in data:
                day = dt.date.fromisoformat(data)
                return dt.datetime.combine(day, dt.time(0), tzinfo=PARIS).astimezone(dt.UTC)
            parsed = dt.datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if parsed.utcoffset() is None:
            self.fail("invalid")
        return parsed.astimezone(dt.UTC)

    def to_representation(self, value: dt.datetime) -> str:
        return value.astimezone(PARIS).isoformat(timespec="seconds")


class CemsCheckInput(serializers.Serializer[Any]):
    delivery_point = serializers.CharField(max_length=40)
    start_date = InstantField()
    end_date = InstantField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start_date"], attrs["end_date"]
        if end <= start:
            raise serializers.ValidationError({"end_date": _("must be after start_date")})
        if end - start > MAX_WINDOW:
            raise serializers.ValidationError(
                {"end_date": _("at most %(days)s days") % {"days": MAX_WINDOW.days}}
            )
        return attrs


class CemsCheck(APIView):
    permission_classes = [OrganisationRole]
    # A read, though the annex makes it a POST.
    write_role = Role.VIEWER

    @extend_schema(
        summary="Check the supplier signal held for a window (Annex 2)",
        description="`status`: valid, incomplete or missing; `last_poll`: how the latest call "
        "to the supplier went.",
        request=CemsCheckInput,
        responses={200: dict},
        examples=examples(request=ex.CEMS_IN, response=ex.CEMS_CHECK),
    )
    def post(self, request: Request, session_id: str) -> Response:
        organisation = current_organisation(request)
        feeds = SupplierFeed.objects.filter(organisation=organisation, session_id=session_id)
        if not feeds.exists():
            raise Http404
        query = CemsCheckInput(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            point = find_prm(organisation=organisation, delivery_point=data["delivery_point"])
        except FeedSpecError as exc:
            raise serializers.ValidationError({exc.field: [exc.reason]}) from None
        feed = feeds.filter(metering_point=point).select_related("metering_point").first()
        if feed is None:
            raise serializers.ValidationError(
                {"delivery_point": [_("not followed in this session")]}
            )
        body = selectors.cems_check(
            feed=feed, start=data["start_date"], end=data["end_date"], now=_now()
        )
        return Response({"session_id": session_id, **body})


class EcowattSignals(APIView):
    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="The stored Ecowatt days from today on (RTE Ecowatt v5)",
        responses={200: dict},
        examples=examples(response=ex.ECOWATT),
    )
    def get(self, request: Request) -> Response:
        current_organisation(request)  # any member or token; the signal is national
        return Response(selectors.ecowatt_payload(now=_now()))
