"""A confirmed Flex Ready request as a Home Assistant event (hub.mqtt), once committed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from flexready import services
from flexready.models import AllowedPeriod, Asset
from flexready.program import ProgramStep
from tests.flexready.conftest import paris


def test_confirmation_is_told_refusal_is_not(
    annex: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("hub.mqtt.publish_event", lambda **kwargs: sent.append(kwargs))
    asset = Asset.objects.get(bacs__bacs_id=annex[0].bacs_id, asset_id="WholeBuilding")
    start = paris(2026, 6, 12, 12)
    AllowedPeriod.objects.create(asset=asset, start=start, end=start + dt.timedelta(hours=1))
    asset.max_duration_s = 3600
    asset.save()
    steps = [ProgramStep(start, start + dt.timedelta(hours=1), Decimal(40_000))]
    caller = services.Caller("test-operator")
    created = services.create_request(
        asset=asset, request_id="p-1", flex_product="WID", steps=steps,
        now=start - dt.timedelta(hours=1), caller=caller,
    )  # fmt: skip
    too_long = [ProgramStep(start, start + dt.timedelta(hours=3), Decimal(40_000))]
    with django_capture_on_commit_callbacks(execute=True):
        refused = services.confirm_request(
            request=created.request, flex_product="WID", steps=too_long, ack_price=None,
            now=start - dt.timedelta(minutes=30), caller=caller,
        )  # fmt: skip
        assert refused.reasons
    assert sent == []
    with django_capture_on_commit_callbacks(execute=True):
        services.confirm_request(
            request=created.request, flex_product="WID", steps=steps, ack_price=None,
            now=start - dt.timedelta(minutes=30), caller=caller,
        )  # fmt: skip
    assert [(e["event_type"], e["attributes"]["request"]) for e in sent] == [
        ("request_confirmed", "p-1")
    ]
    assert sent[0]["organisation_id"] == tenant.organisation.pk
    assert sent[0]["attributes"]["start"] == start
