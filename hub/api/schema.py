"""OpenAPI: token authentication (via HubConfig), shared problem+json errors, examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers

from hub.api.pagination import PagePagination


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


class HubAutoSchema(AutoSchema):
    """drf-spectacular's schema, where an operation documented by `page_of` is a list as a
    generic view paginated with PagePagination (DRF's LimitOffsetPagination) is: named
    `..._list`, with the paginator's own `limit` and `offset` query parameters."""

    def _answers_a_page(self) -> bool:
        responses = self.get_response_serializers()
        answers = responses.values() if isinstance(responses, dict) else [responses]
        return self.method == "GET" and any(getattr(a, "is_page", False) for a in answers)

    def get_operation_id(self) -> str:
        operation_id: str = super().get_operation_id()
        if self._answers_a_page():
            return operation_id.removesuffix("_retrieve").removesuffix("_list") + "_list"
        return operation_id

    def _get_pagination_parameters(self) -> list[dict[str, Any]]:
        if self._answers_a_page():
            # The paginator `hub.api.pagination.paginated` pages with.
            return PagePagination().get_schema_operation_parameters(self.view)
        parameters: list[dict[str, Any]] = super()._get_pagination_parameters()
        return parameters


def page_of(item: Any, *, other_media: dict[str, Any] | None = None) -> Callable[[Any], Any]:
    """Documents a view method's 200 JSON answer as one page of `item` (a serializer class or
    instance): `{count, next, previous, results: [item]}` named `Paginated<Item>List`, with the
    `limit`/`offset` query parameters (`HubAutoSchema`); `other_media` are its other 200
    answers by media type (a file download). Stack it above the method's own `extend_schema`."""
    name = (item if isinstance(item, type) else type(item)).__name__.removesuffix("Serializer")
    child = item() if isinstance(item, type) else item
    page = inline_serializer(
        f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True, required=False),
            "previous": serializers.URLField(allow_null=True, required=False),
            "results": serializers.ListSerializer(child=child),
        },
    )
    # HubAutoSchema knows the page by this mark (the serializer class is made on the fly).
    page.is_page = True  # type: ignore[attr-defined]
    responses: dict[Any, Any] = {200: page}
    if other_media:
        responses = {(200, "application/json"): page}
        responses.update({(200, media): schema for media, schema in other_media.items()})
    return extend_schema(responses=responses)


PAGE_KEYS = {"count", "next", "previous", "results"}


def page_example(*items: Any) -> dict[str, Any]:
    """A page answer holding `items` (the first page, all of it)."""
    return {"count": len(items), "next": None, "previous": None, "results": list(items)}


PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEMS_PATH = "/api/v1/problems/"
# RFC 9457's `type`: a URI reference naming the kind of problem; `about:blank` when the HTTP
# status says it all.
PROBLEM_TYPES = {
    400: PROBLEMS_PATH + "invalid-input",
    409: PROBLEMS_PATH + "held",
    429: PROBLEMS_PATH + "rate-limited",
    503: PROBLEMS_PATH + "dependency-down",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An error answer (RFC 9457 problem details), for every 4xx and 5xx.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri-reference",
            "description": "`about:blank` for a plain HTTP status, else "
            "`/api/v1/problems/<slug>`: invalid-input (400), held (409), rate-limited (429), "
            "dependency-down (503).",
        },
        "title": {"type": "string", "description": "Short summary of the problem type."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "This occurrence, in the caller's language."},
        "instance": {"type": "string", "description": "The request's path."},
        "errors": {
            "type": "array",
            "description": "400 only: each faulty field with its reason.",
            "items": {
                "type": "object",
                "required": ["field", "pointer", "reason"],
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "pointer": {
                        "type": "string",
                        "description": "JSON Pointer (RFC 6901) as a URI fragment: `#/a/0/b`.",
                    },
                    "reason": {"type": "string"},
                },
            },
        },
        "held_by": {
            "type": "array",
            "items": {"type": "string"},
            "description": "409 only: what still depends on the row, with counts.",
        },
        "retry_after": {
            "type": "integer",
            "minimum": 0,
            "description": "429 only: seconds before the budget allows a call again.",
        },
    },
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# Answers any operation may give besides its own: the schema documents every status the API
# sends (the fuzzing test holds it to that).
INPUT_ERROR = "Bad input: each field named with its reason."
COMMON_ERRORS = {
    401: "No credentials, or unusable ones.",
    403: "Not allowed for this caller (role, scope, network, consent).",
    429: "Rate limit reached: see Retry-After and the RateLimit-* headers.",
    503: "A dependency (database, broker) is down: see Retry-After and /readyz.",
}
NOT_FOUND = "Not found in the caller's organisation (another organisation's id answers the same)."
BODY_ERRORS = {413: "Request body too large."}
DELETE_ERRORS = {409: "Other records still depend on it: `held_by` names them."}
TITLES = {
    400: "Invalid input",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Held by other records",
    413: "Request Entity Too Large",
    429: "Rate limited",
    503: "Dependency down",
}
DETAILS = {
    401: "Informations d'authentification non fournies.",
    403: "Vous n'avez pas la permission d'effectuer cette action.",
    404: "Pas trouvé.",
    409: "Suppression impossible : des données y sont rattachées.",
    413: "Corps de requête trop volumineux.",
    429: "Requête ralentie. Nouvel essai possible dans 42 secondes.",
    503: "Base de données indisponible.",
}

ACCEPT_LANGUAGE = {
    "in": "header",
    "name": "Accept-Language",
    "required": False,
    "description": "Language of `detail` and of the labels: French unless English is asked.",
    "schema": {"type": "string", "enum": ["fr", "en"], "default": "fr"},
}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Calls allowed in the tightest window that counted this call.",
    "RateLimit-Remaining": "Calls left in that window.",
    "RateLimit-Reset": "Seconds until that window starts again.",
}


RETRY_AFTER = "Seconds to wait before calling again."


def _headers(status: int) -> dict[str, Any]:
    """A success or a 429 carries the tightest budget; a 429 or 503 says when to retry."""
    names = list(RATE_LIMIT_HEADERS) if status < 300 or status == 429 else []
    if status in (429, 503):
        names.append("Retry-After")
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


# A string path parameter's value in the examples, by name: what the apps' examples use (a
# 14-digit GRDF PCE, an OA contract, Annex 1's BACS, asset and request ids).
PATH_EXAMPLES = {
    "pce": "21547896321458",
    "contract_id": "BOA-2024-000123",
    "session_id": "6d1f0b5e-2c47-4a8e-9f13-0b7c5e2a9d41",
    "bacs_id": "f47ac10b-58cc-4372-a567-0e02b2c3d479",
    "asset_id": "WholeBuilding",
    "request_id": "req-001",
}
UUID_EXAMPLE = "3f2b8c4e-6a1d-4e9b-9a57-0c1d2e3f4a5b"


def _example_path(path: str, parameters: list[dict[str, Any]]) -> str:
    """The operation's path with its parameters filled, for `instance`."""
    for parameter in parameters:
        if parameter.get("in") == "path":
            schema = parameter.get("schema", {})
            if schema.get("type") == "integer":
                value = "42"
            elif schema.get("format") == "uuid":
                value = UUID_EXAMPLE
            else:
                value = PATH_EXAMPLES.get(parameter["name"], "example")
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def _first_input(operation: dict[str, Any], schemas: dict[str, Any]) -> tuple[str, str]:
    """A field the operation reads and the reason DRF gives when it is wrong."""
    body = operation.get("requestBody", {}).get("content", {})
    for media in body.values():
        schema = media.get("schema", {})
        ref = schema.get("$ref", "")
        if ref:
            schema = schemas.get(ref.rsplit("/", 1)[-1], {})
        required = schema.get("required") or list(schema.get("properties", {}))
        if required:
            return required[0], "Ce champ est obligatoire."
        break
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "query":
            return parameter["name"], "Saisissez une valeur valide."
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "path":
            return parameter["name"], "Saisissez une valeur valide."
    return "non_field_errors", "Données invalides."


def problem_example(status: int, *, instance: str, field: str = "", reason: str = "") -> Any:
    """A problem-details body as the API answers it (for a view's own error examples too)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPES.get(status, "about:blank"),
        "title": TITLES[status],
        "status": status,
        "detail": DETAILS.get(status, f"{field} : {reason}"),
        "instance": instance,
    }
    if status == 400:
        body["errors"] = [
            {
                "field": None if field == "non_field_errors" else field,
                "pointer": "#" if field == "non_field_errors" else f"#/{field}",
                "reason": reason,
            }
        ]
    elif status == 409:
        body["held_by"] = ["compteur TIC (1)", "série (2)"]
    elif status == 429:
        body["retry_after"] = 42
    return body


def _page_links(response: dict[str, Any], path: str) -> None:
    """A list's examples link to the list's own next page (drf-spectacular writes a generic
    `api.example.org/accounts/` there)."""
    for media in response.get("content", {}).values():
        for example in media.get("examples", {}).values():
            value = example.get("value")
            page = isinstance(value, dict) and set(value) == PAGE_KEYS
            # A page example whose list fits in one page keeps its null links.
            if page and value["next"] is not None:
                value["next"] = f"https://hub.example{path}?limit=100&offset=100"
                value["previous"] = None


def document_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the shared error answers (problem+json), the
    Accept-Language header and the RateLimit-* headers on every operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    result["components"]["headers"] = {
        name: {"description": text, "schema": {"type": "integer", "minimum": 0}}
        for name, text in {**RATE_LIMIT_HEADERS, "Retry-After": RETRY_AFTER}.items()
    }
    for path, path_item in result.get("paths", {}).items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == "Accept-Language" for p in parameters):
                parameters.append(ACCEPT_LANGUAGE)
            instance = _example_path(path, parameters)
            has_path = any(p.get("in") == "path" for p in parameters)
            has_input = "requestBody" in operation or any(
                p.get("in") in ("path", "query") for p in parameters
            )
            errors: dict[int, str] = {}
            if has_input:
                errors[400] = INPUT_ERROR
            errors.update(COMMON_ERRORS)
            if has_path:
                errors[404] = NOT_FOUND
            if "requestBody" in operation:
                errors.update(BODY_ERRORS)
            if method == "delete":
                errors.update(DELETE_ERRORS)
            field, reason = _first_input(operation, schemas)
            for status, response in operation["responses"].items():
                if str(status).startswith("2"):
                    response.setdefault("headers", {}).update(_headers(int(status)))
                    _page_links(response, instance)
            for status, response in operation["responses"].items():
                # A view's own error answers (`responses={403: dict}`) keep their description
                # and examples, in the shared shape.
                if str(status)[0] in "45":
                    errors[int(status)] = response.get("description") or errors.get(
                        int(status), TITLES.get(int(status), "Error")
                    )
            for status, description in sorted(errors.items()):
                declared = operation["responses"].get(str(status), {})
                examples: dict[str, Any] = {}
                for media in declared.get("content", {}).values():
                    examples.update(media.get("examples", {}))
                if not examples:
                    example = problem_example(status, instance=instance, field=field, reason=reason)
                    examples = {TITLES.get(status, "Error").replace(" ", ""): {"value": example}}
                problem: dict[str, Any] = {"description": description}
                if headers := _headers(status):
                    problem["headers"] = headers
                problem["content"] = {
                    PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF, "examples": examples}
                }
                operation["responses"][str(status)] = problem
    return result


def examples(
    *,
    request: Any = None,
    response: Any = None,
    status: int = 200,
    name: str = "Example",
    request_media_type: str = "application/json",
    response_media_type: str = "application/json",
) -> list[OpenApiExample]:
    """An operation's examples: its request body (if any) and its success answer. On a generic
    list view, `response` is one item: drf-spectacular wraps it in the page; on a view
    documented by `page_of`, it is the page (`page_example`)."""
    found = []
    if request is not None:
        found.append(
            OpenApiExample(name, value=request, request_only=True, media_type=request_media_type)
        )
    if response is not None:
        found.append(
            OpenApiExample(
                name,
                value=response,
                response_only=True,
                status_codes=[str(status)],
                media_type=response_media_type,
            )
        )
    return found
