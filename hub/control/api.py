"""Control API (``/api/v1/control/``): a site's loads and commands, dry run, manual overrides."""

from __future__ import annotations

from dataclasses import replace
from typing import NoReturn

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.actors import Actor
from hub.api.pagination import paginated
from hub.api.permissions import OrganisationRole
from hub.api.schema import examples, page_example, page_of
from hub.control import api_examples as ex
from hub.control import selectors, services
from hub.control.models import Command, ControllableLoad, ManualOverride
from hub.tenancy import current_organisation


class LoadOut(serializers.ModelSerializer):
    channel = serializers.CharField(source="channel.name")
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = ControllableLoad
        fields = [
            "id",
            "name",
            "kind",
            "kind_label",
            "channel",
            "metering_point",
            "nominal_power_w",
            "priority",
            "full_value",
            "safe_value",
            "value",
            "value_read_at",
            "changed_at",
            "held_by",
            "held_reason",
            "min_on_seconds",
            "min_off_seconds",
            "max_off_seconds_per_day",
        ]


class CommandOut(serializers.ModelSerializer):
    load_name = serializers.CharField(source="load.name")

    class Meta:
        model = Command
        fields = [
            "id",
            "load",
            "load_name",
            "at",
            "value",
            "previous",
            "source",
            "reason",
            "status",
            "acked_value",
            "latency_ms",
            "error",
        ]


class OverrideOut(serializers.ModelSerializer):
    class Meta:
        model = ManualOverride
        fields = ["id", "load", "value", "reason", "starts_at", "ends_at", "created_by"]


class PlannedOut(serializers.Serializer):
    load = serializers.IntegerField(source="load_id")
    value = serializers.FloatField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    reason = serializers.CharField()


class SiteOut(serializers.Serializer):
    id = serializers.IntegerField(source="site.pk")
    name = serializers.CharField(source="site.name")
    dry_run = serializers.SerializerMethodField()
    loads = LoadOut(many=True)
    overrides = OverrideOut(many=True)
    planned = PlannedOut(many=True)
    commands = CommandOut(many=True)

    def get_dry_run(self, state: selectors.SiteState) -> bool:
        return state.control.dry_run if state.control else True


class DryRunIn(serializers.Serializer):
    dry_run = serializers.BooleanField()


class OverrideIn(serializers.Serializer):
    value = serializers.FloatField(min_value=0, max_value=1e9)
    ends_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


def _400(exc: services.InvalidOverride) -> NoReturn:
    raise ValidationError({exc.field: [exc.reason]})


class ControlSiteList(APIView):
    permission_classes = [OrganisationRole]

    @page_of(SiteOut)
    @extend_schema(
        summary="List the sites with controllable loads",
        description="Each site's loads, active overrides, planned values and latest commands.",
        examples=examples(response=page_example(ex.SITE)),
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        organisation = current_organisation(request)
        states = [
            selectors.site_state(site=site, now=now)
            for site in selectors.sites(organisation=organisation)
            .filter(controllable_loads__isnull=False)
            .distinct()
        ]
        return paginated(self, request, states, serializer=SiteOut)


class ControlSiteDetail(APIView):
    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="Read one site's control state",
        responses={200: SiteOut},
        examples=examples(response=ex.SITE),
    )
    def get(self, request: Request, site_id: int) -> Response:
        site = get_object_or_404(
            selectors.sites(organisation=current_organisation(request)), pk=site_id
        )
        return Response(SiteOut(selectors.site_state(site=site, now=timezone.now())).data)


class ControlDryRun(APIView):
    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="Switch a site's dry run on or off",
        description="In dry run, commands are computed and journalled but not sent.",
        request=DryRunIn,
        responses={200: DryRunIn},
        examples=examples(request=ex.DRY_RUN, response=ex.DRY_RUN),
    )
    def post(self, request: Request, site_id: int) -> Response:
        site = get_object_or_404(
            selectors.sites(organisation=current_organisation(request)), pk=site_id
        )
        data = DryRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        control = services.set_dry_run(
            site=site,
            dry_run=data.validated_data["dry_run"],
            actor=_actor(request),
            now=timezone.now(),
        )
        return Response({"dry_run": control.dry_run})


class ControlOverride(APIView):
    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="Force a load's value until a time",
        description="A manual override outranks every controller except safety.",
        request=OverrideIn,
        responses={201: OverrideOut},
        examples=examples(request=ex.OVERRIDE_IN, response=ex.OVERRIDE, status=201),
    )
    def post(self, request: Request, load_id: int) -> Response:
        load = get_object_or_404(
            selectors.loads(organisation=current_organisation(request)), pk=load_id
        )
        data = OverrideIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            override = services.set_override(
                load=load,
                value=data.validated_data["value"],
                ends_at=data.validated_data["ends_at"],
                reason=data.validated_data["reason"],
                actor=_actor(request),
                now=timezone.now(),
            )
        except services.InvalidOverride as exc:
            return _400(exc)
        return Response(OverrideOut(override).data, status=201)


class ControlOverrideCancel(APIView):
    permission_classes = [OrganisationRole]

    @extend_schema(
        summary="Cancel a manual override",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request, override_id: int) -> Response:
        override = get_object_or_404(
            selectors.overrides(organisation=current_organisation(request)),
            pk=override_id,
            cancelled_at__isnull=True,
        )
        services.cancel_override(override=override, actor=_actor(request), now=timezone.now())
        return Response(status=204)


def _actor(request: Request) -> Actor:
    actor = Actor.from_request(request)
    if getattr(request, "auth", None) is not None and hasattr(request.auth, "name"):
        return replace(actor, label=f"jeton {request.auth.name}")
    return actor
