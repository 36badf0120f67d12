"""seed_demo loads the annex's data set into the demo organisation, idempotently."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command

from flexready.models import (
    AllowedPeriod,
    Asset,
    Bacs,
    FlexRequest,
    OperatorIdentity,
    RequestStatus,
)
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
    period = AllowedPeriod.objects.get(asset=whole)
    assert period.start == dt.datetime(2025, 4, 2, 10, tzinfo=dt.UTC)  # 12:00 in Paris
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
