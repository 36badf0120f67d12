"""The Smart OA portal in a real browser: timeline and chart, a contract created by an admin, a
schedule entered by hand."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from hub.clock import local_day_of
from hub.models import Membership, MeteringPoint, Organisation, Role, User
from smartoa import simulator
from smartoa.client import parse_schedule
from smartoa.services import create_contract, record_schedule
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CONTRACT_ID = "BOA-2025-000042"


def test_contract_page_shows_the_timeline_and_the_chart(page) -> None:
    organisation = Organisation.objects.create(slug="e2e-oa", name="Producteur E2E")
    user = User.objects.create_user("oa@e2e.example", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.VIEWER)
    device = enrol_totp(user)
    point = MeteringPoint.objects.create(
        organisation=organisation, kind="oa_site", identifier=CONTRACT_ID
    )
    contract = create_contract(
        organisation=organisation,
        contract_id=CONTRACT_ID,
        account_id=CONTRACT_ID,
        api_token="upstream",
        metering_point=point,
    )
    today = local_day_of(timezone.now())
    body = simulator.body_for(
        contract_id=CONTRACT_ID,
        day=today,
        update_date=timezone.now() - dt.timedelta(hours=1),
        stops=((dt.time(11, 55), dt.time(18, 0)),),
    )
    record_schedule(
        contract=contract,
        schedule=parse_schedule(json.dumps(body), expected_id=CONTRACT_ID),
        fetched_at=timezone.now(),
    )

    sign_in(page, user.email, device)

    page.click("text=Smart OA")
    page.click(f"text={CONTRACT_ID}")
    page.wait_for_selector("#contract-title")
    timeline = page.locator(f"#timeline-{today.isoformat()}")
    segment = timeline.locator(".stop-segment")
    assert segment.count() == 1
    box, bar = segment.bounding_box(), timeline.bounding_box()
    assert box is not None and bar is not None
    # 11:55 → 18:00 sits right of the middle of the day and spans about a quarter of it.
    assert 0.45 < (box["x"] - bar["x"]) / bar["width"] < 0.55
    assert 0.2 < box["width"] / bar["width"] < 0.3
    page.wait_for_selector("#compliance-chart[data-ready=true]")
    steps = page.evaluate("document.getElementById('compliance-chart').chart.data.labels.length")
    assert steps in (276, 288, 300)
    assert page.evaluate("typeof Chart") == "function"


def test_admin_creates_a_contract_then_enters_a_schedule_by_hand(page) -> None:
    """Seed: « 1 contrat = 1 compte » with its token; when the API is unreachable, « récupérer
    manuellement le signal via le portail web Smart OA »."""
    organisation = Organisation.objects.create(slug="e2e-oa-admin", name="Producteur E2E")
    user = User.objects.create_user("oa-admin@e2e.example", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.ADMIN)
    device = enrol_totp(user)
    sign_in(page, user.email, device)

    page.goto("/smartoa/contracts/")
    page.click("#contract-new")
    page.fill("input[name=contract_id]", CONTRACT_ID)
    page.fill("input[name=label]", "Centrale du Causse")
    page.fill("input[name=api_token]", "upstream-token-e2e")
    page.click("#contract-submit")
    page.wait_for_selector("#contract-title")
    assert "upstream-token-e2e" not in page.content()

    today = local_day_of(timezone.now())
    page.fill("#manual-schedule input[name=day]", today.strftime("%d/%m/%Y"))
    page.fill("#manual-schedule textarea[name=stops]", "11:55 - 18:00")
    page.click("#manual-submit")
    page.wait_for_selector("#contract-title")
    segment = page.locator(f"#timeline-{today.isoformat()} .stop-segment")
    assert segment.count() == 1
    assert "saisie manuelle" in page.locator("#versions").inner_text()
