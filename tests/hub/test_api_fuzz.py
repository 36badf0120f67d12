"""Schemathesis walks the OpenAPI schema with a valid token: no input, valid or not, may cause
a 500, and every status answered to valid input is one the schema documents.

Operations are driven one by one through their Hypothesis strategies (bounded examples each),
so the run stays short and every endpoint added to the schema is fuzzed without a new test.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from hub.services.series import ensure_series
from hub.services.tokens import create_token
from hub.wsgi import application

# Each call commits on its own, as in production: a database error in one request (answered
# 400 by the API's handler) must not poison the requests after it through a shared transaction.
pytestmark = pytest.mark.django_db(transaction=True)
# Valid input (the happy paths) is held to the documented statuses too; invalid input (wrong
# types, missing fields, out-of-range values) only to "never a 500", with fewer examples.
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


@pytest.fixture
def throttles_reset_after():
    # Thousands of calls from one address fill the shared throttle buckets (per IP for
    # requests without a user); later tests must not inherit them.
    from django.core.cache import cache

    yield
    cache.clear()


@pytest.mark.parametrize("mode", list(EXAMPLES), ids=lambda mode: mode.value)
def test_no_input_causes_a_server_error(tenant, in_process_wsgi, throttles_reset_after, mode):
    """Done means: "schemathesis over the whole schema (bounded, in CI) with 0 server errors
    and 0 undocumented status codes on the happy paths"."""
    from django.core.cache import cache

    ensure_series(metering_point=tenant.point, quantity="p", unit="W", source="fuzz")
    token = create_token(organisation=tenant.organisation, name="fuzz").plaintext
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10  # the schema really lists the API
    failures: list[str] = []
    undocumented: set[str] = set()
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):  # type: ignore[no-untyped-def]
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")
            documented = case.operation.definition.raw.get("responses", {})
            if mode is GenerationMode.POSITIVE and str(response.status_code) not in documented:
                undocumented.add(f"{case.method} {case.operation.path}: {response.status_code}")

        check()
        # Each operation starts with empty throttle buckets: the budget is not under test.
        cache.clear()
    assert failures == []
    assert sorted(undocumented) == []
