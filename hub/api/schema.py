"""OpenAPI: the token authentication (loaded via HubConfig) and the shared error answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "hub.api.auth.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token created in the portal or with create_api_token.",
        }


class VerifiedSessionScheme(OpenApiAuthenticationExtension):
    target_class = "hub.portal.api_auth.VerifiedSessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}


ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` names the reason; a 400 names each faulty field instead.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
# Answers any operation may give besides its own: the schema documents every status the API
# sends (the fuzzing test holds it to that).
COMMON_ERRORS = {
    "400": "Bad input: each field named with its reason.",
    "401": "No credentials, or unusable ones.",
    "403": "Not allowed for this caller (role, scope, network, consent).",
    "404": "Not found in the caller's organisation (another organisation's id answers the same).",
    "429": "Rate limit reached: see Retry-After and the RateLimit-* headers.",
    "503": "A dependency (database, broker) is down: see Retry-After and /readyz.",
}
BODY_ERRORS = {"413": "Request body too large."}
DELETE_ERRORS = {"409": "Other records still depend on it: `held_by` names them."}


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the shared error answers on every operation."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for method, operation in path.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            errors = dict(COMMON_ERRORS)
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            if method == "delete":
                errors.update(DELETE_ERRORS)
            for status, description in errors.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": content}
                )
    return result
