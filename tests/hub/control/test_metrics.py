"""Control commands and their acknowledgement on /metrics (a real Modbus TCP server)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from hub.control import services
from hub.control.models import CommandStatus, ManualOverride
from tests.hub.control.conftest import make_building
from tests.hub.test_metrics import TOKEN, scrape, value

NOW = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


def test_acknowledged_and_dry_run_commands_are_counted(tenant, building, settings):  # type: ignore[no-untyped-def]
    settings.METRICS_TOKEN, settings.METRICS_ALLOWED_NETWORKS = TOKEN, []
    before = scrape(Client())
    live = make_building(tenant, building)
    dry = make_building(tenant, None, dry_run=True, name="Entrepôt")
    for b in (live, dry):
        ManualOverride.objects.create(
            organisation=tenant.organisation, load=b.loads[1], value=0.0, reason="maintenance",
            starts_at=NOW, ends_at=NOW + dt.timedelta(minutes=30), created_by="op@acme.example",
        )  # fmt: skip
    for load in dry.loads:
        load.value, load.changed_at = load.full_value, NOW - dt.timedelta(hours=1)
        load.save()
    (acked,) = services.evaluate_site(site=live.site, now=NOW)
    (simulated,) = services.evaluate_site(site=dry.site, now=NOW)
    assert (acked.status, simulated.status) == (CommandStatus.ACKNOWLEDGED, CommandStatus.DRY_RUN)
    after = scrape(Client())
    for status in ("acked", "dry_run"):
        delta = value(after, "hub_control_commands_total", status=status) - value(
            before, "hub_control_commands_total", status=status
        )
        assert delta == 1, status
    count = "hub_control_ack_seconds_count"
    assert value(after, count) - value(before, count) == 1
