"""seed_demo loads the annex's data set into the demo organisation, idempotently."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from flexready.models import (
    AllowedPeriod,
    Asset,
    Bacs,
    FlexRequest,
    OperatorIdentity,
    RequestStatus,
)
from hub.clock import local_day_of, local_midnight
from hub.models import Organisation
from hub.signals import demo_seeded


@pytest.fixture
def only_our_receiver(monkeypatch: pytest.MonkeyPatch) -> None:
    """The other apps' demo receivers are theirs to test: keep ours alone on the signal."""
    ours = [r for r in demo_seeded.receivers if r[0][0] == "flexready-demo"]
    assert ours, "flexready's receiver is connected in AppConfig.ready()"
    monkeypatch.setattr(demo_seeded, "receivers", ours)
    demo_seeded.sender_receivers_cache.clear()


@pytest.mark.usefixtures("only_our_receiver")
def test_seed_demo_loads_the_annex_data_set_twice_without_duplicates(db: Any) -> None:
    call_command("seed_demo", "--i-know-this-is-not-production")
    call_command("seed_demo", "--i-know-this-is-not-production")
    demo = Organisation.objects.get(slug="demo")
    assert set(Bacs.objects.filter(organisation=demo).values_list("bacs_id", "name")) == {
        ("f47ac10b-58cc-4372-a567-0e02b2c3d479", "BACS Whole Building Only"),
        ("a987fbc9-4bed-4078-9f07-9141ba07c9f3", "BACS Whole Building with Heating System"),
    }
    assert Asset.objects.filter(bacs__organisation=demo).count() == 3
    whole = Asset.objects.get(bacs__bacs_id="f47ac10b-58cc-4372-a567-0e02b2c3d479")
    assert (whole.power_w, whole.mobilisation_delay_s, whole.max_duration_s) == (100_000, 60, 120)
    # Allowed from the seeding day (Paris midnight) for 30 days, not on the annex's 2025 date.
    period = AllowedPeriod.objects.get(asset=whole)
    today = local_day_of(timezone.now())
    assert period.start == local_midnight(today)
    assert period.end == local_midnight(today + dt.timedelta(days=30))
    assert (
        Bacs.objects.filter(organisation=demo, metering_point__identifier="30001234567890").count()
        == 2
    )
    assert OperatorIdentity.objects.filter(organisation=demo, subject="").count() == 1
    # Yesterday's demonstration request, realised on the demo load curve (30 kW shed).
    demo_request = FlexRequest.objects.get(request_id__startswith="demo-")
    assert demo_request.status == RequestStatus.REALISED
    assert demo_request.realisation is not None
    assert demo_request.realisation["total"]["delivered"]["value"] == 30.0


@pytest.mark.usefixtures("only_our_receiver")
def test_a_newcomer_creates_and_confirms_a_request_right_after_seeding(db: Any) -> None:
    """The annex's potential for BACS 1 (100 kW, 1 min mobilisation, 2 min at most, 1 a day)
    with an allowed period that includes today: a request a few minutes ahead is accepted and
    confirmed straight away, in the API as in the portal."""
    from hub.services.tokens import create_token

    call_command("seed_demo", "--i-know-this-is-not-production")
    demo = Organisation.objects.get(slug="demo")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {create_token(organisation=demo, name='newcomer').plaintext}"
    )
    start = (timezone.now() + dt.timedelta(minutes=5)).replace(second=0, microsecond=0)
    program = [
        {
            "power": {"unit": "W", "multiplier": "k", "value": 50},
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=2)).isoformat(),
        }
    ]
    url = (
        "/api/v1/operator/bacs/f47ac10b-58cc-4372-a567-0e02b2c3d479/assets/WholeBuilding"
        "/flexibilities/request"
    )
    created = client.post(
        url, {"requestID": "first", "flexProduct": "WID", "power": program}, format="json"
    )
    assert created.status_code == 201, created.content
    confirmed = client.post(
        f"{url}/first/confirm", {"flexProduct": "WID", "power": program}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
