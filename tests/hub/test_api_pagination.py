"""Pages of the token API: ``count`` is the list's total whether the page counted it or not.

DRF documents a limit/offset page as ``{count, next, previous, results}``, ``count`` being the
number of items in the whole list ("Pagination", LimitOffsetPagination); PagePagination only
skips the COUNT statement when the page itself ends the list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.models import MeteringPoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirty(token_client, tenant):
    # The tenant has one point already: 30 in all.
    MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=tenant.organisation, kind="elec_prm", identifier=f"{i:014d}")
        for i in range(29)
    )
    assert token_client.get("/api/v1/ping").status_code == 200  # the token's first use noted
    return token_client


def identifiers(page: dict) -> list[str]:
    return [row["identifier"] for row in page["results"]]


def counts(client, url: str) -> tuple[dict, int]:
    """The page at ``url`` and how many COUNT statements answering it took."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.json(), sum("COUNT(" in q["sql"].upper() for q in captured.captured_queries)


@pytest.mark.parametrize(
    ("query", "counted", "size", "has_next", "has_previous"),
    [
        ("limit=50", 0, 30, False, False),  # the whole list in a page that is not full
        ("limit=30", 0, 30, False, False),  # exactly full: the extra row is not there
        ("limit=10", 1, 10, True, False),  # full, more follow: counted
        ("limit=10&offset=20", 0, 10, False, True),  # the last page, ends the list
        ("limit=10&offset=25", 0, 5, False, True),  # a short last page
        ("limit=10&offset=30", 1, 0, False, True),  # past the end: counted
        ("limit=10&offset=500", 1, 0, False, True),
    ],
)
def test_count_is_the_lists_total_whichever_way(
    thirty, query, counted, size, has_next, has_previous
):
    everything = identifiers(thirty.get("/api/v1/metering-points/?limit=1000").json())
    assert len(everything) == 30
    page, statements = counts(thirty, f"/api/v1/metering-points/?{query}")
    assert statements == counted
    assert page["count"] == 30
    assert len(page["results"]) == size
    assert (page["next"] is not None) == has_next
    assert (page["previous"] is not None) == has_previous
    offset = int(query.partition("offset=")[2] or 0)
    assert identifiers(page) == everything[offset : offset + size]


def test_an_empty_list_is_counted_without_count(token_client, tenant):
    MeteringPoint.objects.filter(organisation=tenant.organisation).delete()
    assert token_client.get("/api/v1/ping").status_code == 200
    page, statements = counts(token_client, "/api/v1/metering-points/")
    assert statements == 0
    assert page == {"count": 0, "next": None, "previous": None, "results": []}


def test_a_page_of_another_tenant_counts_only_its_own(thirty, foreign):
    # The total is the scoped list's, the rival's points never in it (counted or not).
    MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=foreign.organisation, kind="elec_prm", identifier=f"9{i:013d}")
        for i in range(40)
    )
    assert thirty.get("/api/v1/metering-points/?limit=10").json()["count"] == 30
    assert thirty.get("/api/v1/metering-points/?limit=100").json()["count"] == 30


@pytest.mark.parametrize(
    ("query", "size"),
    [
        ("limit=75703724875783766016", 30),  # cut to the maximum page, not sent to the database
        ("limit=100000", 30),
        ("offset=75703724875783766016", 0),  # past the end of any list
        ("offset=9223372036854775807&limit=1000", 0),
        ("offset=25&limit=9223372036854775807", 5),
    ],
)
def test_limits_and_offsets_no_database_holds_are_pages_not_errors(thirty, query, size):
    # Found by the schema fuzz test: a 64-bit LIMIT overflow was a 500 (tests/hub/test_api_fuzz.py).
    response = thirty.get(f"/api/v1/metering-points/?{query}")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 30
    assert len(page["results"]) == size


def test_a_page_holds_at_most_a_thousand_rows(token_client, tenant):
    MeteringPoint.objects.bulk_create(
        MeteringPoint(organisation=tenant.organisation, kind="elec_prm", identifier=f"{i:014d}")
        for i in range(1200)
    )
    page = token_client.get("/api/v1/metering-points/?limit=5000").json()
    assert page["count"] == 1201
    assert len(page["results"]) == 1000
    assert "offset=1000" in page["next"]
