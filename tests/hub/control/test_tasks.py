"""The Celery tasks: every site evaluated, every live channel's watchdog refreshed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hub.control import tasks
from hub.control.models import ActuatorChannel, Command, ManualOverride, SiteControl
from tests.hub.control.conftest import HEARTBEAT_REGISTER, make_building

pytestmark = pytest.mark.django_db


def test_evaluate_all_and_heartbeat_skip_dry_run_sites(tenant, foreign, building):
    live = make_building(tenant, building)
    dry = make_building(foreign, None, dry_run=True, name="Simulé")
    now = timezone.now()
    for b in (live, dry):
        ManualOverride.objects.create(
            organisation=b.site.organisation,
            load=b.loads[0],
            value=0,
            reason="essai",
            starts_at=now - dt.timedelta(minutes=1),
            ends_at=now + dt.timedelta(hours=1),
            created_by="x",
        )
    assert tasks.evaluate_all() == 2
    assert building.get("coil", 0) == 0
    assert set(Command.objects.values_list("status", flat=True)) == {"acked", "dry_run"}
    assert tasks.heartbeat() == 1  # the dry-run site's channel (no equipment) is left alone
    assert building.get("holding", HEARTBEAT_REGISTER) >= 1
    assert ActuatorChannel.objects.get(site=live.site).last_heartbeat_at is not None
    SiteControl.objects.filter(site=live.site).update(enabled=False)
    assert tasks.evaluate_all() == 0
