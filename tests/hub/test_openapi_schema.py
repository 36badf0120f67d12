"""The OpenAPI schema documents every operation with examples that hold to their own schemas."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM_REF = "#/components/schemas/Problem"
# Lists that answer a bare array on purpose: Flex Ready's BACS operator contract (Annex 1) fixes
# `GET /bacs` and `GET /bacs/{id}/assets` as arrays. Every other list answers a page.
BARE_ARRAY_BY_CONTRACT = {
    "flexready_bacs_get",
    "flexready_bacs_bacs_id_assets_get",
    "flexready_session_id_operator_bacs_get",
    "flexready_session_id_operator_bacs_bacs_id_assets_get",
}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    # Through the served renderer: lazy translations become strings, as clients read them.
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def resolve(schema: dict[str, Any], node: Any) -> Any:
    """The node with every `$ref` replaced by its component, OpenAPI 3.0's `nullable` turned
    into JSON Schema's null type (components here are not recursive)."""
    if isinstance(node, list):
        return [resolve(schema, item) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(schema, target)
    out = {key: resolve(schema, value) for key, value in node.items()}
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def examples_of(media: dict[str, Any]) -> list[tuple[str, Any]]:
    found = [(name, ex["value"]) for name, ex in media.get("examples", {}).items()]
    if "example" in media:
        found.append(("example", media["example"]))
    return found


def success(operation: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    code = min(c for c in operation["responses"] if c.startswith("2"))
    return code, operation["responses"][code]


def is_binary(media: dict[str, Any]) -> bool:
    return media.get("schema", {}).get("format") == "binary"


def test_the_schema_generates_without_warnings(tmp_path):
    # `manage.py spectacular --validate --fail-on-warn`: any warning of the generator (an untyped
    # field, a view it cannot read) or a schema that breaks the OpenAPI spec fails the command.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s"))


def test_every_operation_is_named_and_described(schema):
    """Rule: "every operation has an operationId, a summary or description"."""
    missing = [
        f"{method.upper()} {path}"
        for path, method, op in operations(schema)
        if not op.get("operationId") or not (op.get("summary") or op.get("description"))
    ]
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert missing == []
    assert len(ids) == len(set(ids))


def test_every_operation_has_examples(schema):
    """Rule: "at least one example for its success response and for its request body if any",
    and one 400 example where a 400 is documented. A file (binary) answer has no example."""
    missing = []
    for path, method, op in operations(schema):
        name = f"{method.upper()} {path}"
        code, response = success(op)
        contents = response.get("content", {})
        readable = [m for m in contents.values() if not is_binary(m)]
        if readable and not any(examples_of(m) for m in readable):
            missing.append(f"{name}: {code} response")
        body = op.get("requestBody", {}).get("content", {})
        # One example per body, in its first media type (JSON where the view parses JSON).
        if body and not examples_of(next(iter(body.values()))):
            missing.append(f"{name}: request body {next(iter(body))}")
        if "400" in op["responses"]:
            problem = op["responses"]["400"]["content"]["application/problem+json"]
            if not examples_of(problem):
                missing.append(f"{name}: 400")
    assert missing == []


def test_every_example_holds_to_its_schema(schema):
    """An example that does not match its own schema documents something the API does not do."""
    wrong = []
    for path, method, op in operations(schema):
        body = op.get("requestBody", {}).get("content", {})
        medias = [("request", mt, m) for mt, m in body.items()]
        for code, response in op["responses"].items():
            medias += [(code, mt, m) for mt, m in response.get("content", {}).items()]
        for where, media_type, media in medias:
            if "schema" not in media:
                continue
            target = resolve(schema, media["schema"])
            for name, value in examples_of(media):
                errors = list(jsonschema.Draft4Validator(target).iter_errors(value))
                for error in errors[:3]:
                    at = "/".join(str(p) for p in error.absolute_path)
                    wrong.append(
                        f"{method.upper()} {path} {where} {media_type} {name} at /{at}: "
                        f"{error.message[:160]}"
                    )
    assert wrong == []


def test_the_validator_catches_an_example_that_lies(schema):
    # The check above must be able to fail: a Site whose id is a string is refused.
    site = resolve(schema, {"$ref": "#/components/schemas/Site"})
    lie = {"id": "42", "name": "Campus Lyon"}
    assert list(jsonschema.Draft4Validator(site).iter_errors(lie))


def test_every_list_is_paginated(schema):
    """Rule: "every list answers {count, next, previous, results}"."""
    shapes = {}
    for _, method, op in operations(schema):
        media = op["responses"].get("200", {}).get("content", {}).get("application/json")
        if method != "get" or media is None:
            continue
        shape = resolve(schema, media["schema"])
        if op["operationId"].endswith("_list") or shape.get("type") == "array":
            shapes[op["operationId"]] = shape
    paginated = {
        op_id
        for op_id, shape in shapes.items()
        if shape.get("type") == "object"
        and set(shape.get("properties", {})) == {"count", "next", "previous", "results"}
        and set(shape.get("required", [])) >= {"count", "results"}
    }
    assert len(paginated) >= 19  # the generic lists and the ones paged by hub.api.pagination
    assert set(shapes) - paginated == BARE_ARRAY_BY_CONTRACT


def test_a_paged_list_documents_what_a_generic_list_does(schema):
    """A view paged by `hub.api.pagination` is documented as drf-spectacular documents a generic
    view with LimitOffsetPagination: the same `Paginated<Item>List` shape, limit and offset."""
    by_id = {op["operationId"]: op for _, _, op in operations(schema)}
    generic, paged = by_id["sites_list"], by_id["grdf_pces_list"]

    def page_shape(op: dict[str, Any]) -> dict[str, Any]:
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        component = copy.deepcopy(schema["components"]["schemas"][ref.rsplit("/", 1)[-1]])
        for field in component["properties"].values():
            field.pop("example", None)
        component["properties"]["results"]["items"] = "item"
        return component

    def page_parameters(op: dict[str, Any]) -> list[dict[str, Any]]:
        return [p for p in op["parameters"] if p["name"] in ("limit", "offset")]

    assert page_shape(paged) == page_shape(generic)
    assert page_parameters(paged) == page_parameters(generic)
    example = paged["responses"]["200"]["content"]["application/json"]["examples"]["Example"]
    assert example["value"]["next"] is None and len(example["value"]["results"]) == 1


def test_every_error_answer_is_a_problem(schema):
    """Rule: every 4xx/5xx answer is `application/problem+json`; each operation documents
    400 (if it takes input), 401, 403, 404 (if it has a path parameter) and 429."""
    wrong = []
    for path, method, op in operations(schema):
        name = f"{method.upper()} {path}"
        responses = op["responses"]
        params = op.get("parameters", [])
        expected = {"401", "403", "429"}
        if "requestBody" in op or any(p["in"] in ("query", "path") for p in params):
            expected.add("400")
        if any(p["in"] == "path" for p in params):
            expected.add("404")
        if expected - set(responses):
            wrong.append(f"{name}: missing {sorted(expected - set(responses))}")
        for code, response in responses.items():
            if code[0] not in "45":
                continue
            content = response.get("content", {})
            if list(content) != ["application/problem+json"]:
                wrong.append(f"{name} {code}: {sorted(content)}")
            elif content["application/problem+json"]["schema"] != {"$ref": PROBLEM_REF}:
                wrong.append(f"{name} {code}: not the Problem component")
        if not any(p["in"] == "header" and p["name"] == "Accept-Language" for p in params):
            wrong.append(f"{name}: no Accept-Language")
        headers = success(op)[1].get("headers", {})
        if not {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} <= set(headers):
            wrong.append(f"{name}: no RateLimit headers on its success")
    assert wrong == []


def test_the_problem_component_is_the_contract(schema):
    """Rule: body {type, title, status, detail, instance, errors (400): [{field, pointer,
    reason}], held_by (409), retry_after (429, int seconds)}."""
    problem = resolve(schema, {"$ref": PROBLEM_REF})
    assert set(problem["properties"]) == {
        "type",
        "title",
        "status",
        "detail",
        "instance",
        "errors",
        "held_by",
        "retry_after",
    }
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert problem["properties"]["status"]["type"] == "integer"
    assert problem["properties"]["retry_after"]["type"] == "integer"
    item = problem["properties"]["errors"]["items"]
    assert set(item["properties"]) == {"field", "pointer", "reason"}
    assert item["properties"]["field"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    contract = {
        "400": "/api/v1/problems/invalid-input",
        "409": "/api/v1/problems/held",
        "429": "/api/v1/problems/rate-limited",
        "503": "/api/v1/problems/dependency-down",
        "401": "about:blank",
        "403": "about:blank",
        "404": "about:blank",
    }
    for _, _, op in operations(schema):
        for code, type_ in contract.items():
            media = op["responses"].get(code, {}).get("content", {}).get("application/problem+json")
            for _, value in examples_of(media or {}):
                assert (value["type"], value["status"]) == (type_, int(code))
                assert ("errors" in value) == (code == "400")
                assert ("held_by" in value) == (code == "409")
                assert ("retry_after" in value) == (code == "429")


def test_an_operation_without_input_documents_no_400():
    # The hook's rule, on a made-up operation: no body, no query or path parameter, no 400.
    from hub.api.schema import document_error_responses

    result = {"paths": {"/api/v1/ping": {"get": {"responses": {"200": {}}}}}}
    document_error_responses(copy.deepcopy(result))
    out = document_error_responses(result)["paths"]["/api/v1/ping"]["get"]["responses"]
    assert "400" not in out and "404" not in out
    assert {"401", "403", "429", "503"} <= set(out)


def test_the_shape_comparison_catches_a_missing_or_extra_key():
    # tests/<app>/test_api_examples.py compare examples with real answers through it.
    from tests.api_examples import shape_mismatches

    answer = {"pce": "21547896321458", "values": [{"label": "12/01/2026", "energy_kwh": 1.0}]}
    assert shape_mismatches(answer, answer) == []
    lie = {"pce": "21547896321458", "values": [{"label": "12/01/2026", "kwh": 1.0}]}
    assert shape_mismatches(lie, answer) == [
        "/values/0/kwh: only in the example",
        "/values/0/energy_kwh: missing from the example",
    ]


def test_an_error_example_names_a_realistic_path(schema):
    # A PCE is 14 digits: the 404 example of a PCE's page names one, not `1`.
    op = schema["paths"]["/api/v1/grdf/pces/{pce}/"]["get"]
    media = op["responses"]["404"]["content"]["application/problem+json"]
    [(_, value)] = examples_of(media)
    assert value["instance"] == "/api/v1/grdf/pces/21547896321458/"
