"""The market-signals page in a real browser: Chart.js draws Ecowatt and the supplier signal."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from flexready.market.client.ecowatt import parse_signals
from flexready.market.client.supplier import parse_signal
from flexready.market.services import ecowatt
from flexready.market.services.supplier import (
    follow_delivery_point,
    poll_window,
    store_signal,
)
from flexready.market.simulator import ecowatt as ecowatt_sim
from flexready.market.simulator import supplier as supplier_sim
from hub.models import Membership, MeteringPoint, Organisation, Role, User
from tests.conftest import PASSWORD
from tests.e2e.conftest import sign_in
from tests.hub.test_portal_support import enrol_totp

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_signals_page_draws_the_charts_and_the_alert(page: Any) -> None:
    organisation = Organisation.objects.create(slug="e2e-signals", name="Signaux E2E")
    user = User.objects.create_user("signals@e2e.example", PASSWORD)
    Membership.objects.create(user=user, organisation=organisation, role=Role.VIEWER)
    device = enrol_totp(user)
    point = MeteringPoint.objects.create(
        organisation=organisation, kind="elec_prm", identifier="30001234567890"
    )
    now = timezone.now()
    feed = follow_delivery_point(organisation=organisation, delivery_point=point.identifier)
    start, end = poll_window(now=now)
    store_signal(
        point=feed.metering_point,
        signal=parse_signal(supplier_sim.default_signal(start=start, end=end)),
    )
    ecowatt_sim.STATE.reset()
    ecowatt_sim.STATE.script = lambda day, hour: 3 if hour == 19 else 1
    try:
        body = json.dumps(ecowatt_sim.body_at(now))
    finally:
        ecowatt_sim.STATE.reset()
    ecowatt.store_forecast(forecast=parse_signals(body), fetched_at=now - dt.timedelta(minutes=1))

    sign_in(page, user.email, device)

    page.goto("/flexready/signals/")
    page.wait_for_selector("#signals-title")
    assert "Alerte Ecowatt rouge" in page.inner_text("#ecowatt-alert")
    for canvas in ("ecowatt-chart", "price-chart", "co2-chart", "power-chart"):
        # Chart.js registers every chart it drew on its canvas.
        drawn = page.evaluate(f"() => !!window.Chart.getChart('{canvas}')")
        assert drawn, canvas
    points = page.evaluate(
        "() => window.Chart.getChart('price-chart').data.datasets[0].data.length"
    )
    assert points == len(parse_signal(supplier_sim.default_signal(start=start, end=end)).points)
