"""The demo's controllable building (four loads on the in-process Modbus simulator of
``manage.py control_simulator``) and its plant on MQTT (dry run when no broker answers)."""

from __future__ import annotations

import datetime as dt
import socket
from typing import Any

from django.conf import settings
from django.db import transaction

from hub.control.models import ActuatorChannel, ControllableLoad, SiteControl
from hub.models import MeteringPoint, MeteringPointKind, Organisation, Site

BUILDING = "Bâtiment de démonstration"
PLANT = "Centrale de démonstration"
HEARTBEAT_REGISTER = 500
# (name, kind, W, shedding order, register, address, normal value, policies)
LOADS: list[tuple[str, str, float, int, str, str, float, dict[str, Any]]] = [
    (
        "Chauffe-eau",
        "shiftable",
        6_000,
        10,
        "coil",
        "0",
        1.0,
        {"tic.tariff": {"calendar": "fournisseur", "on": ["HC", "HCH", "HCE"], "off": ["HP"]}},
    ),
    ("Climatisation", "sheddable", 15_000, 20, "coil", "1", 1.0, {}),
    ("Ventilation", "sheddable", 5_000, 30, "coil", "2", 1.0, {}),
    (
        "Pompe à chaleur",
        "sheddable",
        20_000,
        40,
        "holding",
        "10",
        100.0,
        {"flexready.ecowatt": {"min_level": 2, "value": 50}},
    ),
]


def modbus_port() -> int:
    return int(getattr(settings, "CONTROL_DEMO_MODBUS_PORT", 15020))


def mqtt_address() -> tuple[str, int]:
    return (
        str(getattr(settings, "CONTROL_DEMO_MQTT_HOST", "127.0.0.1")),
        int(getattr(settings, "CONTROL_DEMO_MQTT_PORT", 1883)),
    )


def broker_reachable() -> bool:
    try:
        socket.create_connection(mqtt_address(), timeout=0.5).close()
    except OSError:
        return False
    return True


def on_demo_seeded(sender: Any, *, organisation: Organisation, today: dt.date, **_: Any) -> None:
    seed(organisation=organisation)


@transaction.atomic
def seed(*, organisation: Organisation) -> None:
    site, _created = Site.objects.get_or_create(organisation=organisation, name=BUILDING)
    SiteControl.objects.get_or_create(
        site=site, defaults={"organisation": organisation, "dry_run": False}
    )
    # Behind the building's PRM, which the demo TIC meter measures (the servo and tariffs
    # follow that meter), else behind a TIC meter's own point.
    points = MeteringPoint.objects.filter(organisation=organisation).order_by("pk")
    meter = (
        points.filter(kind=MeteringPointKind.ELEC_PRM).first()
        or points.filter(kind=MeteringPointKind.TIC_METER).first()
    )
    if meter is not None:
        # A demo seeded when the loads sat behind the meter's own point: moved to the PRM.
        ControllableLoad.objects.filter(
            site=site, metering_point__kind=MeteringPointKind.TIC_METER
        ).exclude(metering_point=meter).update(metering_point=meter)
    channel, _created = ActuatorChannel.objects.get_or_create(
        site=site,
        name="Automate du bâtiment",
        defaults={
            "organisation": organisation,
            "kind": "modbus",
            "host": "127.0.0.1",
            "port": modbus_port(),
            "heartbeat_register": HEARTBEAT_REGISTER,
            "watchdog_seconds": 60,
            "timeout_seconds": 2,
        },
    )
    for name, kind, power, order, register, address, full, policies in LOADS:
        ControllableLoad.objects.get_or_create(
            site=site,
            name=name,
            defaults={
                "organisation": organisation,
                "channel": channel,
                "metering_point": meter,
                "kind": kind,
                "nominal_power_w": power,
                "priority": order,
                "register": register,
                "address": address,
                "full_value": full,
                "safe_value": full,
                "policies": policies,
                "min_off_seconds": 60,
                "min_on_seconds": 60,
                "max_off_seconds_per_day": 4 * 3600,
            },
        )
    _seed_plant(organisation)


def _seed_plant(organisation: Organisation) -> None:
    # The Smart OA demo contract's site when there is one: its stops drive the plant.
    point = (
        MeteringPoint.objects.filter(organisation=organisation, kind=MeteringPointKind.OA_SITE)
        .exclude(site=None)
        .select_related("site")
        .first()
    )
    if point is not None and point.site is not None:
        site = point.site
    else:
        site, _created = Site.objects.get_or_create(organisation=organisation, name=PLANT)
    SiteControl.objects.get_or_create(
        site=site, defaults={"organisation": organisation, "dry_run": not broker_reachable()}
    )
    host, port = mqtt_address()
    channel, _created = ActuatorChannel.objects.get_or_create(
        site=site,
        name="Passerelle de la centrale",
        defaults={
            "organisation": organisation,
            "kind": "mqtt",
            "host": host,
            "port": port,
            "topic_prefix": "demo/centrale",
            "watchdog_seconds": 60,
            "timeout_seconds": 3,
        },
    )
    ControllableLoad.objects.get_or_create(
        site=site,
        name="Onduleurs",
        defaults={
            "organisation": organisation,
            "channel": channel,
            "kind": "generator",
            "nominal_power_w": 250_000,
            "priority": 100,
            "register": "holding",
            "address": "onduleurs",
            "full_value": 100.0,
            "safe_value": 100.0,
        },
    )
