"""Flex Ready in a real browser: an operator edits a potential, then reads a realised request's
timeline and chart."""

from __future__ import annotations

import pytest

from flexready.models import Asset, FlexRequest
from tests.conftest import make_tenant
from tests.e2e.conftest import sign_in
from tests.flexready.conftest import ISSUER
from tests.flexready.test_portal import realised_request
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_operator_edits_potential_and_reads_realisation(page) -> None:
    from flexready.demo import load_annex_data_set
    from flexready.models import OperatorIdentity

    tenant = make_tenant("e2eflex")
    OperatorIdentity.objects.create(organisation=tenant.organisation, issuer=ISSUER)
    load_annex_data_set(organisation=tenant.organisation, metering_point=tenant.point)
    whole = Asset.objects.get(
        bacs__organisation=tenant.organisation,
        bacs__bacs_id="f47ac10b-58cc-4372-a567-0e02b2c3d479",
    )
    flex: FlexRequest = realised_request(whole, tenant)
    device = enrol_totp(tenant.operator)

    sign_in(page, tenant.operator.email, device)

    page.click("text=Flex Ready")
    page.wait_for_selector("#flexready-title")
    assert page.locator("section.bacs").count() == 2
    row = page.locator("#bacs-f47ac10b-58cc-4372-a567-0e02b2c3d479 tr.asset")
    assert "100 kW" in row.inner_text()
    row.locator("a.edit").click()
    page.fill("input[name=power_kw]", "75")
    page.click("#potential-submit")
    page.wait_for_selector("#flexready-title")
    assert (
        "75 kW" in page.locator("#bacs-f47ac10b-58cc-4372-a567-0e02b2c3d479 tr.asset").inner_text()
    )

    page.click(f"text={flex.request_id}")
    page.wait_for_selector("#request-title")
    assert page.inner_text("#request-status") == "réalisée"
    actions = page.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.action)")
    assert actions == [
        "flexready.request.received",
        "flexready.request.accepted",
        "flexready.request.confirmed",
        "flexready.request.active",
        "flexready.request.realised",
    ]
    # Chart.js drew the realisation (vendored script, no CDN).
    page.wait_for_selector("#realisation-chart[data-ready='1']")
    assert "40" in page.inner_text("#realisation-total")
