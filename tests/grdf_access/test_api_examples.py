"""The GRDF operations' OpenAPI examples have the keys of the API's answers (issue 19.5)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from grdf_access import api_examples as ex
from grdf_access.sync import sync_data
from tests.api_examples import shape_mismatches
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right

pytestmark = pytest.mark.django_db


def test_the_examples_have_the_answers_shape(sim, tenant, gateway, operator_client) -> None:
    right = active_right(tenant, data_start=dt.date(2026, 3, 1))
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    pce = f"/api/v1/grdf/pces/{PCE_ID}"
    threshold = operator_client.post(
        "/api/v1/grdf/thresholds/", {**ex.THRESHOLD_IN, "pce": PCE_ID}, format="json"
    )
    answers: dict[str, tuple[Any, Any]] = {
        "pces": (operator_client.get("/api/v1/grdf/pces/"), [ex.PCE]),
        "pce": (operator_client.get(f"{pce}/"), ex.PCE_DETAIL),
        "consumption": (
            operator_client.get(f"{pce}/consumption", {"start": "2026-03-27", "end": "2026-03-31"}),
            ex.CONSUMPTION,
        ),
        "revisions": (operator_client.get(f"{pce}/revisions"), ex.REVISIONS),
        "snapshots": (operator_client.get(f"{pce}/snapshots"), ex.SNAPSHOTS),
        "rights": (operator_client.get("/api/v1/grdf/rights/"), [ex.RIGHT]),
        "right": (operator_client.get(f"/api/v1/grdf/rights/{right.pk}/"), ex.RIGHT),
        "threshold": (threshold, ex.THRESHOLD),
        "thresholds": (operator_client.get("/api/v1/grdf/thresholds/"), [ex.THRESHOLD]),
        "long-estimated": (
            operator_client.get("/api/v1/grdf/reports/long-estimated"),
            [ex.LONG_ESTIMATED],
        ),
    }
    statuses = {name: response.status_code for name, (response, _) in answers.items()}
    assert statuses == {name: 201 if name == "threshold" else 200 for name in answers}
    wrong = {}
    for name, (response, example) in answers.items():
        body = response.json()
        if isinstance(example, list):
            # A list answers one page: its items are compared with the documented item.
            assert set(body) == {"count", "next", "previous", "results"}, name
            body = body["results"]
        if name == "snapshots":
            # GRDF's contractual data differ by PCE generation: its keys are GRDF's, not ours.
            for snapshot in body["snapshots"]:
                snapshot["data"] = snapshot["changes"] = {}
            example = {
                **example,
                "snapshots": [{**s, "data": {}, "changes": {}} for s in example["snapshots"]],
            }
        wrong[name] = shape_mismatches(example, body)
    assert wrong == {name: [] for name in answers}
