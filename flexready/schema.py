"""OpenAPI description of the Annex 1 API (drf-spectacular): one operation id per path, the
annex's request bodies, and the JWT bearer scheme.

The serializers here only describe; the views parse bodies themselves so that every error names
the annex's field (``power[0].power.unit``) and every potential rule is reported at once.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers


class TripletSerializer(serializers.Serializer[Any]):
    unit = serializers.CharField(help_text="W for a power; EUR/MWh … for a price")
    multiplier = serializers.CharField(required=False, allow_blank=True, help_text="'', k, M …")
    value = serializers.FloatField()


class PowerStepSerializer(serializers.Serializer[Any]):
    power = TripletSerializer()
    start = serializers.CharField(help_text="ISO 8601; without offset: Paris wall time")
    end = serializers.CharField(help_text="ISO 8601; without offset: Paris wall time")


class CreateRequestBody(serializers.Serializer[Any]):
    requestID = serializers.CharField(max_length=100)  # the annex's names, camelCase
    flexProduct = serializers.CharField(max_length=16)
    power = PowerStepSerializer(many=True)


class ConfirmRequestBody(serializers.Serializer[Any]):
    flexProduct = serializers.CharField(max_length=16)
    power = PowerStepSerializer(many=True)
    ackPrice = TripletSerializer(required=False)


class FlexReadySchema(AutoSchema):
    def get_operation_id(self) -> str:
        slug = re.sub(r"[^A-Za-z0-9]+", "_", self.path.removeprefix("/api/v1/")).strip("_")
        return f"flexready_{slug}_{self.method.lower()}"

    def get_tags(self) -> list[str]:
        return ["flexready"]

    def get_request_serializer(self) -> Any:
        return getattr(self.view, "request_body", None)

    def get_response_serializers(self) -> Any:
        return getattr(self.view, "response_body", OpenApiTypes.OBJECT)


class JwtScheme(OpenApiAuthenticationExtension):
    target_class = "flexready.auth.JwtAuthentication"
    name = "operatorJwt"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
