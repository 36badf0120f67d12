# ruff: noqa: E501 - the annex's lines, kept as they are
"""Flex Ready® Annex 1 (flexibility-operator API): its curl examples, verbatim.

The annex reached us through a PDF extraction: URLs broken across lines and the page stamp
"PROVISOIRE" inside two examples. Only those breaks are joined here; the text is otherwise
the annex's, placeholders and unbalanced JSON included. ``parse_curl`` reads one example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFIRM_GENERIC = r"""curl -X POST "https://flexready-
emulator.heka.ai/api/v1/{session_id}/bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{request_id}/
confirm" \
-H "Accept: application/json" \
-H "Content-Type: application/json" \
-d '{"flexibility": "flexibility"}'
"""

CONFIRM_SPECIFIC = r"""curl -X POST "https://flexready-emulator.heka.ai/api/v1/{session_id}/bacs/f47ac10b-58cc-4372-a567-0e02b2c3d479/assets/WholeBuilding/flexibilities/request/req-001/confirm" \
-H "Accept: application/json" \
-H "Content-Type: application/json" \
-H "Authorization: Bearer <your_jwt_token>" \
-d '{
"flexProduct": "WID", "power": [
{
"power": { "unit": "W", "multiplier": "k", "value": 80.0 }, "start": "2025-04-02T10:00:00",
"end": "2025-04-02T12:00:00"
}
]
}
"""

REALISE_GENERIC = r"""curl -X GET "https://flexready-emulator.heka.ai/api/v1/{session_id}/bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{request_id}/consumptions" \
-H "Accept: application/json" \
"""

REALISE_SPECIFIC = r"""curl -X GET "https://flexready-emulator.heka.ai/api/v1/{session_id}/bacs/f47ac10b-58cc-4372-a567-0e02b2c3d479/assets/WholeBuilding/flexibilities/request/req-001/consumptions" \
-H "Accept: application/json" \
"""

OPERATOR_CREATE_GENERIC = r"""curl -X POST "https://flexready-emulator.heka.ai/api/v1/{session_id}/operator/bacs/{bacs_id}/assets/{asset_id}/flexibilities/request" \
-H "Accept: application/json" \
-H "Content-Type: application/json" \
-H "Authorization: Bearer <your_jwt_token>" \
-H "EMULATOR_<any_header>: <any_value>" \
-d '{
"requestID": "{request_id}", "flexProduct":
"<flex_product_code>", "power": [
{
"power": { "unit": "<unit>", "multiplier": "<multiplier>", "value": <value> }, "start": "<YYYY-MM-DDTHH:MM:SS>",
"end": "<YYYY-MM-DDTHH:MM:SS>"
}
}
"""

OPERATOR_CONFIRM_GENERIC = r"""curl -X POST "https://flexready-
emulator.heka.ai/api/v1/{session_id}/operator/bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{req
uest_id}/confirm" \
-H "Accept: application/json" \
-H "Content-Type: application/json" \
-H "Authorization: Bearer <your_jwt_token>" \
-H "EMULATOR_<any_header>: <any_value>" \
-d '{
"flexProduct": "<flex_product_code>", "power": [
{
"power": { "unit": "<unit>", "multiplier": "<multiplier>", "value": <value> }, "start": "<YYYY-MM-
DDTHH:MM:SS>",
"end": "<YYYY-MM-DDTHH:MM:SS>"
}
}
"""

OPERATOR_REALISE_GENERIC = r"""curl -X GET "https://flexready-
emulator.heka.ai/api/v1/{session_id}/operator/bacs/{bacs_id}/assets/{asset_id}/flexibilities/request/{req
uest_id}/consumptions" \
-H "Accept: application/json" \
-H "Authorization: Bearer <your_jwt_token>" \
"""

OPERATOR_CONSUMPTIONS_GENERIC = r"""curl -X GET "https://flexready-
emulator.heka.ai/api/v1/{session_id}/operator/bacs/{bacs_id}/assets/{asset_id}/consumptions" \
-H "Accept: application/json" \
-H "Content-Type: application/json" \
-d '{"bacs_id": "1234567890", "asset_id": "1234567890"}'
"""

HOST = "https://flexready-emulator.heka.ai"


@dataclass(frozen=True)
class CurlExample:
    method: str
    path: str  # without the host
    headers: dict[str, str]
    body: str | None


def parse_curl(text: str) -> CurlExample:
    method = re.search(r"-X (\w+)", text)
    url = re.search(r'"(https://[^"]+)"', text, re.S)
    assert method and url, text
    # The PDF broke URLs at the line end: joining means dropping the line breaks.
    full = re.sub(r"\s+", "", url.group(1))
    assert full.startswith(HOST), full
    headers = dict(h.split(": ", 1) for h in re.findall(r'-H "([^"]+)"', text))
    body_match = re.search(r"-d '(.*?)(?:'|\Z)", text, re.S)
    return CurlExample(
        method.group(1),
        full[len(HOST) :],
        headers,
        body_match.group(1) if body_match else None,
    )
