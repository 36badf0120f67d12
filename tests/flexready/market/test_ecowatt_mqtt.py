"""Ecowatt orange and red days as Home Assistant events (hub.mqtt), once per day and level."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from flexready.market.client.ecowatt import parse_signals
from flexready.market.services import ecowatt
from tests.conftest import Tenant

from .conftest import paris
from .test_ecowatt_client import body, day

pytestmark = pytest.mark.django_db
NOW = paris(2026, 1, 15, 10, 0)


def test_each_new_orange_or_red_day_is_one_event_per_organisation(
    tenant: Tenant, foreign: Tenant, monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    sent: list[dict[str, Any]] = []
    monkeypatch.setattr("hub.mqtt.publish_event", lambda **kwargs: sent.append(kwargs))
    forecast = parse_signals(
        body(
            day("2026-01-15T00:00:00+01:00", [1] * 24),
            day("2026-01-16T00:00:00+01:00", [1] * 8 + [2] * 2 + [1] * 14),
            day("2026-01-17T00:00:00+01:00", [1] * 18 + [3] * 2 + [1] * 4),
        )
    )
    with django_capture_on_commit_callbacks(execute=True):
        ecowatt.raise_alerts(forecast=forecast, now=NOW)
        # Polled again 15 minutes later: the alerts are repeats, no new event.
        ecowatt.raise_alerts(forecast=forecast, now=NOW + dt.timedelta(minutes=15))
    got = sorted((e["organisation_id"], e["event_type"], e["attributes"]["day"]) for e in sent)
    assert got == sorted(
        (org.pk, kind, when)
        for org in (tenant.organisation, foreign.organisation)
        for kind, when in (("orange", "2026-01-16"), ("rouge", "2026-01-17"))
    )
    assert {e["entity"].event_types for e in sent} == {("orange", "rouge")}
