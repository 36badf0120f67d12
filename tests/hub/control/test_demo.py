"""The demo: one building with four loads on the Modbus simulator, one plant on MQTT."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hub.actors import Actor
from hub.control import services
from hub.control.models import ActuatorChannel, CommandStatus, ControllableLoad, SiteControl
from hub.control.simulator import ModbusBuilding, Output
from hub.demo import seed_demo
from tests.hub.control.conftest import free_port

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_a_building_whose_commands_are_acknowledged(settings, mosquitto):
    port = free_port()
    settings.CONTROL_DEMO_MODBUS_PORT = port
    settings.CONTROL_DEMO_MQTT_PORT = mosquitto
    seed = seed_demo(today=dt.date(2026, 3, 29))
    seed_demo(today=dt.date(2026, 3, 29))  # idempotent
    organisation = seed.organisation
    building = ControllableLoad.objects.filter(
        organisation=organisation, kind__in=["sheddable", "shiftable"]
    )
    assert building.count() == 4
    plant = ControllableLoad.objects.get(organisation=organisation, kind="generator")
    assert plant.channel.kind == "mqtt"
    assert SiteControl.objects.get(site=plant.site).dry_run is False  # the broker answered
    channel = ActuatorChannel.objects.get(organisation=organisation, kind="modbus")
    sim = ModbusBuilding(
        port=port,
        outputs=[Output("coil", i, 1) for i in range(3)] + [Output("holding", 10, 100)],
        heartbeat_register=channel.heartbeat_register or 0,
        watchdog=dt.timedelta(seconds=60),
    ).start()
    try:
        site = building.first().site  # type: ignore[union-attr]
        now = timezone.now()
        services.evaluate_site(site=site, now=now)
        load = building.get(name="Ventilation")
        services.set_override(
            load=load,
            value=0,
            ends_at=now + dt.timedelta(hours=1),
            reason="démo",
            actor=Actor.system("t"),
            now=now,
        )
        (command,) = services.evaluate_site(site=site, now=now + dt.timedelta(seconds=1))
        assert command.status == CommandStatus.ACKNOWLEDGED
        assert sim.get("coil", 2) == 0
    finally:
        sim.stop()
