"""Read API for plant controllers: contracts, the set-point now, a day's versions, billing.

Callers are hub API tokens (their IP allow-list is enforced by ``hub.api.auth``) or portal
sessions. Everything is scoped by organisation; a token with ControllerAccess rows only sees
those contracts. A contract out of reach answers 404, never 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.permissions import OrganisationRole
from hub.api.schema import examples
from hub.clock import local_day_of
from hub.models import ApiToken
from hub.tenancy import current_organisation
from smartoa import api_examples as ex
from smartoa import billing, selectors
from smartoa.models import Contract, ScheduleVersion
from smartoa.schedule import Episode


class ContractSerializer(serializers.ModelSerializer[Contract]):
    site: serializers.Field = serializers.StringRelatedField()
    metering_point: serializers.Field = serializers.SlugRelatedField(
        slug_field="identifier", read_only=True
    )

    class Meta:
        model = Contract
        # Never the account's token: it is the contract holder's secret.
        fields = [
            "contract_id",
            "label",
            "site",
            "metering_point",
            "enabled",
            "poll_interval",
            "last_polled_at",
            "last_success_at",
        ]


class DayQuery(serializers.Serializer[Any]):
    date = serializers.DateField(required=False, input_formats=["%Y-%m-%d"])


class BillingQuery(serializers.Serializer[Any]):
    day = serializers.DateField(input_formats=["%Y-%m-%d"])


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


def _episode(episode: Episode | None) -> dict[str, str] | None:
    return episode.as_json() if episode is not None else None


def _version(version: ScheduleVersion) -> dict[str, Any]:
    return {
        "application_date": version.application_date.isoformat(),
        "update_date": version.update_date.isoformat(),
        "fetched_at": version.fetched_at.isoformat(),
        "source": version.source,  # "api", or "manual" when entered by an operator
        "periods": version.periods,
        "episodes": [_episode(Episode(e.start, e.end)) for e in version.episodes.all()],
        "diff": version.diff,
    }


class ContractScopedMixin(APIView):
    permission_classes = [OrganisationRole]

    def contracts(self) -> QuerySet[Contract]:
        token = self.request.auth if isinstance(self.request.auth, ApiToken) else None
        return selectors.visible_contracts(
            organisation=current_organisation(self.request), token=token
        )

    def contract(self, contract_id: str) -> Contract:
        found = self.contracts().filter(contract_id=contract_id).first()
        if found is None:
            raise Http404
        return found


@extend_schema_view(
    get=extend_schema(
        summary="List the Smart OA contracts the caller may read",
        examples=examples(response=ex.CONTRACT),
    )
)
class ContractList(ContractScopedMixin, generics.ListAPIView[Contract]):
    serializer_class = ContractSerializer
    queryset = Contract.objects.none()  # the model for the schema; requests use get_queryset()

    def get_queryset(self) -> QuerySet[Contract]:
        return self.contracts()


class Setpoint(ContractScopedMixin, APIView):
    @extend_schema(
        summary="The set-point now, with the current and next stops",
        description="`value` 1.0 while a stop is ordered, 0.0 otherwise; from the latest "
        "schedule version fetched from EDF OA.",
        responses={200: dict},
        examples=examples(response=ex.SETPOINT),
    )
    def get(self, request: Request, contract_id: str) -> Response:
        contract = self.contract(contract_id)
        point = selectors.setpoint(contract=contract, now=_now())
        version = point.version
        return Response(
            {
                "contract_id": contract.contract_id,
                "at": point.at.isoformat(),
                "value": point.value,
                "current_episode": _episode(point.current),
                "next_episode": _episode(point.next),
                "version": (
                    {
                        "application_date": version.application_date.isoformat(),
                        "update_date": version.update_date.isoformat(),
                        "fetched_at": version.fetched_at.isoformat(),
                        "source": version.source,
                    }
                    if version is not None
                    else None
                ),
            }
        )


class Schedules(ContractScopedMixin, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("date", dt.date, description="local day, default today")],
        summary="A day's schedule versions, with their diffs",
        responses={200: dict},
        examples=examples(response=ex.SCHEDULES),
    )
    def get(self, request: Request, contract_id: str) -> Response:
        query = DayQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        contract = self.contract(contract_id)
        day = query.validated_data.get("date") or local_day_of(_now())
        versions = selectors.versions_of_day(contract=contract, day=day)
        return Response(
            {
                "contract_id": contract.contract_id,
                "date": day.isoformat(),
                "versions": [_version(v) for v in versions],
            }
        )


class Billing(ContractScopedMixin, APIView):
    @extend_schema(
        parameters=[OpenApiParameter("day", dt.date, required=True, description="local day")],
        summary="A day's 5-minute billing, stops neutralised at their ends",
        responses={200: dict},
        examples=examples(response=ex.BILLING),
    )
    def get(self, request: Request, contract_id: str) -> Response:
        query = BillingQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        contract = self.contract(contract_id)
        result = billing.bill_contract_day(contract=contract, day=query.validated_data["day"])
        return Response(billing_json(result))


def billing_json(result: billing.BillingDay) -> dict[str, Any]:
    return {
        "day": result.day.isoformat(),
        "unit": result.unit,
        "steps_in_day": len(result.steps),
        "stop_duration_seconds": int(result.stop_duration.total_seconds()),
        "stop_steps": result.stop_steps,
        "neutralised_steps": result.neutralised_steps,
        "missing_steps": result.missing_steps,
        "non_compliant_energy": result.non_compliant_energy,
        "neutralised_energy": result.neutralised_energy,
        "compliant": result.compliant,
        "back_at_full_power": result.back_at_full_power,
        "returns": [
            {
                "stop_end": r.stop_end.isoformat(),
                "step": r.step.isoformat(),
                "energy": r.energy,
                "reference": r.reference,
                "status": r.status.value,
                "reason": r.reason,
            }
            for r in result.returns
        ],
        "episodes": [e.as_json() for e in result.episodes],
        "steps": [
            {"start": s.start.isoformat(), "state": s.state.value, "energy": s.energy}
            for s in result.steps
        ],
    }
