"""The plant on MQTT (a mosquitto broker started by the tests): Smart OA stop setpoints."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.control import services
from hub.control.models import ActuatorChannel, CommandStatus, ControllableLoad, SiteControl
from hub.control.simulator import MqttPlant
from hub.models import MeteringPoint, Site
from smartoa.models import ScheduleVersion, StopEpisode
from smartoa.services import create_contract

# The seed's example: a stop 11:55 to 18:00 (Paris, winter: UTC+1).
STOP_START = dt.datetime(2026, 1, 15, 10, 55, tzinfo=dt.UTC)
STOP_END = dt.datetime(2026, 1, 15, 17, 0, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant(mosquitto):  # type: ignore[no-untyped-def]
    sim = MqttPlant(
        host="127.0.0.1",
        port=mosquitto,
        prefix="centrale-1",
        safe={"onduleur": 100.0},
        watchdog=dt.timedelta(seconds=30),
    ).start(lambda: STOP_START)
    yield sim
    sim.stop()


def _plant_site(tenant, port: int):  # type: ignore[no-untyped-def]
    organisation = tenant.organisation
    site = Site.objects.create(organisation=organisation, name="Centrale")
    SiteControl.objects.create(organisation=organisation, site=site, dry_run=False)
    channel = ActuatorChannel.objects.create(
        organisation=organisation,
        site=site,
        name="passerelle",
        kind="mqtt",
        host="127.0.0.1",
        port=port,
        topic_prefix="centrale-1",
        username="hub",
        password="broker-secret",
        timeout_seconds=5,
    )
    inverter = ControllableLoad.objects.create(
        organisation=organisation,
        site=site,
        channel=channel,
        name="Onduleur",
        kind="generator",
        nominal_power_w=100_000,
        register="holding",
        address="onduleur",
        full_value=100.0,
        safe_value=100.0,
    )
    point = MeteringPoint.objects.create(
        organisation=organisation, site=site, kind="oa_site", identifier="BOA-CTRL-1"
    )
    contract = create_contract(
        organisation=organisation,
        contract_id="BOA-CTRL-1",
        account_id="acct",
        api_token="upstream",
        site=site,
        metering_point=point,
    )
    version = ScheduleVersion.objects.create(
        contract=contract,
        application_date=dt.date(2026, 1, 15),
        update_date=STOP_START - dt.timedelta(days=1),
        fetched_at=STOP_START - dt.timedelta(days=1),
        raw_body="{}",
        periods=[
            {"start": STOP_START.isoformat(), "end": STOP_END.isoformat(), "value": 1.0},
        ],
    )
    StopEpisode.objects.create(version=version, start=STOP_START, end=STOP_END)
    return site, channel, inverter


def test_a_stop_sets_the_plant_to_zero_and_back_to_full_power_five_minutes_before_its_end(
    tenant, mosquitto, plant
):
    """Seed (Smart OA, billing): « Les 5 premières minutes de l'épisode d'arrêt sont
    neutralisées de sorte à permettre la baisse de production. Le producteur doit être à zéro
    à partir de 12h » and « Les 5 dernières minutes … retour à un régime de production normal.
    Le producteur doit être à « pleine puissance » à partir de 18h »."""
    site, channel, _inverter = _plant_site(tenant, mosquitto)
    channel.refresh_from_db()
    assert channel.password == "broker-secret"  # decrypted in Python, ciphertext at rest
    assert services.evaluate_site(site=site, now=STOP_START - dt.timedelta(minutes=1)) == []
    (stop,) = services.evaluate_site(site=site, now=STOP_START)
    assert (stop.value, stop.source, stop.status) == (
        0.0,
        "smartoa.stop",
        CommandStatus.ACKNOWLEDGED,
    )
    assert plant.power["onduleur"] == 0.0
    inside = STOP_END - dt.timedelta(minutes=5, seconds=1)
    assert services.evaluate_site(site=site, now=inside) == []
    (back,) = services.evaluate_site(site=site, now=STOP_END - dt.timedelta(minutes=5))
    assert (back.value, back.acked_value) == (100.0, 100.0)
    assert plant.power["onduleur"] == 100.0


def test_the_plant_watchdog_returns_it_to_its_safe_value_when_the_heartbeat_stops(
    tenant, mosquitto, plant
):
    site, channel, _inverter = _plant_site(tenant, mosquitto)
    services.evaluate_site(site=site, now=STOP_START)
    assert plant.power["onduleur"] == 0.0
    assert services.heartbeat(channel=channel, counter=1, now=STOP_START)
    assert plant.beat_received.wait(5)
    assert not plant.check(STOP_START + dt.timedelta(seconds=10))
    assert plant.check(STOP_START + dt.timedelta(seconds=31))
    assert plant.power["onduleur"] == 100.0
