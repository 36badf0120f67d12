"""Commands through a real Modbus TCP server: dry run, read-back, audit, restart, watchdog."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.control import drivers, services
from hub.control.models import Command, CommandStatus, ManualOverride
from hub.models import AuditEvent
from tests.hub.control.conftest import HEARTBEAT_REGISTER, WATCHDOG, make_building

NOW = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)  # the fall-back night, Paris

pytestmark = pytest.mark.django_db


def _override(load, value, minutes=30, now=NOW):  # type: ignore[no-untyped-def]
    return ManualOverride.objects.create(
        organisation=load.organisation,
        load=load,
        value=value,
        reason="maintenance",
        starts_at=now,
        ends_at=now + dt.timedelta(minutes=minutes),
        created_by="operator@acme.example",
    )


def test_dry_run_records_the_command_and_sends_nothing(tenant, building):
    """Issue: « A dry-run mode per site computes and records the commands without sending them »."""
    b = make_building(tenant, building, dry_run=True)
    for load in b.loads:
        load.value, load.changed_at = load.full_value, NOW - dt.timedelta(hours=1)
        load.save()
    _override(b.loads[0], 0.0)
    (command,) = services.evaluate_site(site=b.site, now=NOW)
    assert command.status == CommandStatus.DRY_RUN and command.source == "manuel"
    assert building.get("coil", 0) == 1  # untouched
    assert services.evaluate_site(site=b.site, now=NOW + dt.timedelta(seconds=5)) == []
    event = AuditEvent.objects.get(action="control.command")
    assert event.after["status"] == "dry_run" and event.organisation == tenant.organisation


def test_a_command_is_written_read_back_audited_and_restored_when_its_reason_ends(tenant, building):
    """Issue: « every command audited (who or which controller, why, value, acknowledgement,
    latency) » and « restore of every shed load when a controller's reason ends »."""
    b = make_building(tenant, building)
    _override(b.loads[1], 0.0, minutes=30)
    commands = services.evaluate_site(site=b.site, now=NOW)
    (command,) = commands
    assert command.status == CommandStatus.ACKNOWLEDGED and command.acked_value == 0.0
    assert command.latency_ms is not None and command.previous == 1.0  # re-read first
    assert building.get("coil", 1) == 0
    event = AuditEvent.objects.get(action="control.command")
    assert event.actor_label == "manuel"
    assert {"value", "status", "reason", "acked_value", "latency_ms"} <= set(event.after)
    later = NOW + dt.timedelta(minutes=31)
    (restore,) = services.evaluate_site(site=b.site, now=later)
    assert (restore.value, restore.source) == (1.0, "défaut")
    assert building.get("coil", 1) == 1


def test_after_a_restart_the_state_is_re_read_before_any_command(tenant, building):
    """Issue: « after a hub restart the state is re-read from the equipment before any new
    command »: the stored value is stale; the restore is computed from what was read."""
    b = make_building(tenant, building)
    services.evaluate_site(site=b.site, now=NOW)
    building.set("coil", 2, 0)  # someone switched it off while the hub was down
    drivers.close_all()  # a new process
    (command,) = services.evaluate_site(site=b.site, now=NOW + dt.timedelta(minutes=1))
    assert (command.previous, command.value, command.load_id) == (0.0, 1.0, b.loads[2].pk)
    assert building.get("coil", 2) == 1


def test_the_equipment_down_fails_the_command_without_raising(tenant, building):
    b = make_building(tenant, building)
    services.evaluate_site(site=b.site, now=NOW)
    building.stop()
    _override(b.loads[0], 0.0)
    (command,) = services.evaluate_site(site=b.site, now=NOW + dt.timedelta(seconds=10))
    assert command.status == CommandStatus.FAILED and command.error
    b.channel.refresh_from_db()
    assert b.channel.last_error


def test_the_watchdog_returns_the_building_to_its_safe_state_when_the_heartbeat_stops(
    tenant, building
):
    """Issue: « a heartbeat register the hub refreshes; the equipment side returns to its safe
    state when it stops »."""
    b = make_building(tenant, building)
    _override(b.loads[0], 0.0)
    _override(b.loads[3], 30.0)
    services.evaluate_site(site=b.site, now=NOW)
    assert (building.get("coil", 0), building.get("holding", 10)) == (0, 30)
    assert services.heartbeat(channel=b.channel, counter=1, now=NOW)
    assert building.get("holding", HEARTBEAT_REGISTER) == 1
    assert not building.check(NOW)
    assert services.heartbeat(channel=b.channel, counter=2, now=NOW)
    assert not building.check(NOW + WATCHDOG)  # refreshed: the count restarts
    assert building.check(NOW + 2 * WATCHDOG + dt.timedelta(seconds=1))  # the hub went quiet
    assert (building.get("coil", 0), building.get("holding", 10)) == (1, 100)
    b.channel.refresh_from_db()
    assert b.channel.last_heartbeat_at == NOW


def test_min_on_time_holds_a_shed_back(tenant, building):
    b = make_building(tenant, building)
    load = b.loads[0]
    load.min_on_seconds = 600
    load.save()
    services.evaluate_site(site=b.site, now=NOW)  # reads: the load is on since now
    _override(load, 0.0, now=NOW)
    # A manual override goes past the limit; a controller would wait (see test_arbitration).
    (command,) = services.evaluate_site(site=b.site, now=NOW + dt.timedelta(seconds=1))
    assert command.value == 0.0
    assert Command.objects.filter(load=load).count() == 1
