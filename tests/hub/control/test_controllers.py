"""The apps' controllers through the engine, on a real Modbus server: the closed loop of the
subscribed-power servo, tariff piloting, Ecowatt and a confirmed Flex Ready request."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from flexready.market.models import EcowattDay, EcowattHour
from flexready.models import Asset, Bacs, FlexRequest, RequestStatus
from hub.control import services
from hub.control.models import ControllableLoad
from hub.control.selectors import site_state
from tests.hub.control.conftest import make_building
from tic.models import TicMeter, TicPort

NOW = dt.datetime(2026, 3, 29, 9, 0, tzinfo=dt.UTC)  # spring-forward day, Paris
BASE_W = 40_000.0  # the building's consumption besides the four loads
PS_KVA = 150.0

pytestmark = pytest.mark.django_db


def _meter(b) -> TicMeter:  # type: ignore[no-untyped-def]
    port = TicPort.objects.create(organisation=b.site.organisation, name="tic", url="loop://")
    return TicMeter.objects.create(
        organisation=b.site.organisation,
        port=port,
        metering_point=b.point,
        identifier=b.point.identifier,
        family="pmepmi",
        subscribed_power=PS_KVA,
        power_unit="kVA",
    )


def _measure(meter: TicMeter, building, loads, base: float) -> None:  # type: ignore[no-untyped-def]
    """A PME-PMI meter whose power follows the simulated building: base + loads that are on.

    02E (PME-PMI): « [PREAVIS] : émis que lorsque la puissance atteinte mesurée 1 mn est
    supérieure au seuil de 90% de la puissance souscrite ».
    """
    power = base
    for load in loads:
        on = building.get(load.register, int(load.address))
        power += load.nominal_power_w * (on / (load.full_value if load.register != "coil" else 1))
    meter.power = power / 1000
    meter.power_share = round(100 * power / (PS_KVA * 1000), 2)
    meter.preavis_active = meter.power_share > 90
    meter.save()


def _on(building, load) -> bool:  # type: ignore[no-untyped-def]
    return building.get(load.register, int(load.address)) >= load.full_value


def test_preavis_sheds_by_priority_then_restores_in_reverse_with_hysteresis(tenant, building):
    """Référentiel §2.4.3, « asservissement à la puissance souscrite »: PREAVIS above 90 % of
    PS; the servo sheds until the share would fall under the release threshold (80 %), then
    restores the last shed first, only when it fits under the release threshold; « nothing comes
    back until Td has passed since the last shed » (tic.controllers.PowerServo)."""
    b = make_building(tenant, building)
    water, cooling, fans, _pump = b.loads
    meter = _meter(b)
    step = dt.timedelta(minutes=1)
    now = NOW

    def tick(after=step):  # type: ignore[no-untyped-def]
        nonlocal now
        now += after
        return services.evaluate_site(site=b.site, now=now)

    services.evaluate_site(site=b.site, now=now)  # reads the building: everything on
    _measure(meter, building, b.loads, 20_000)  # 120 kW of 150: 80 %
    assert not meter.preavis_active
    assert tick() == []

    _measure(meter, building, b.loads, 45_000)  # power rises: 145 kW, 96.7 % → PREAVIS
    assert meter.preavis_active
    shed = tick()
    # 16.7 % of PS to shed: the water heater (13.3 %) is not enough, the cooling is added.
    assert [(c.load_id, c.value, c.source) for c in shed] == [
        (water.pk, 0.0, "tic.servo"),
        (cooling.pk, 0.0, "tic.servo"),
    ]
    assert not _on(building, water) and not _on(building, cooling) and _on(building, fans)
    _measure(meter, building, b.loads, 45_000)  # 95 kW: 63.3 %, PREAVIS ends
    assert not meter.preavis_active
    # Restoring the cooling (20 %) would bring the share to 83.3 % ≥ 80 %: nothing moves.
    assert tick() == []

    _measure(meter, building, b.loads, 30_000)  # 80 kW: 53.3 %
    assert tick() == []  # the shed was 2 minutes ago: the mean over Td (10 min) lags
    (restore,) = tick(dt.timedelta(minutes=10))
    assert (restore.load_id, restore.value) == (cooling.pk, 1.0)  # the last shed comes first
    _measure(meter, building, b.loads, 30_000)  # 110 kW: 73.3 %; + 13.3 % ≥ 80 %: hold
    assert tick() == []
    _measure(meter, building, b.loads, 15_000)  # 95 kW: 63.3 %
    # The cooling came back 2 minutes ago: the mean over Td shows only a fifth of it yet, so
    # the rest counts against the headroom (63.3 + 16 + 13.3 ≥ 80); Td later it is all seen.
    assert tick() == []
    (restore,) = tick(dt.timedelta(minutes=10))
    assert (restore.load_id, restore.value) == (water.pk, 1.0)
    assert all(_on(building, load) for load in b.loads)
    for load in ControllableLoad.objects.filter(site=b.site):
        assert load.held_by == ""


def test_tariff_piloting_switches_a_shiftable_load_by_period(tenant, building):
    """Référentiel §2.4.3, « pilotage tarifaire » (PTCOUR1/2, PTCOURD/F): a load on in off-peak
    hours and off in peak hours."""
    b = make_building(tenant, building)
    water = b.loads[0]
    water.policies = {"tic.tariff": {"calendar": "fournisseur", "on": ["HC"], "off": ["HP"]}}
    water.save()
    meter = _meter(b)
    meter.tariff_periods = {"distributeur": "HPH", "fournisseur": "HP"}
    meter.save()
    (command,) = services.evaluate_site(site=b.site, now=NOW)
    assert (command.load_id, command.value, command.source) == (water.pk, 0.0, "tic.tariff")
    assert "HP" in command.reason
    meter.tariff_periods = {"distributeur": "HCH", "fournisseur": "HC"}
    meter.save()
    (command,) = services.evaluate_site(site=b.site, now=NOW + dt.timedelta(minutes=1))
    assert (command.value, command.source) == (1.0, "tic.tariff")


def _ecowatt(start: dt.datetime, level: int) -> None:
    day = EcowattDay.objects.create(day=start.date(), level=level, fetched_at=NOW)
    EcowattHour.objects.create(day=day, pas=start.hour, start=start, level=level)


def test_ecowatt_orange_hour_applies_the_policy_and_is_announced_beforehand(tenant, building):
    """Référentiel §2.5: Ecowatt lets a certified system « ajuster automatiquement les
    consommations »; the flagged hours are announced in the portal beforehand."""
    b = make_building(tenant, building)
    pump = b.loads[3]
    pump.policies = {"flexready.ecowatt": {"min_level": 2, "value": 50}}
    pump.save()
    hour = NOW.replace(minute=0) + dt.timedelta(hours=2)
    _ecowatt(hour, 2)
    before = site_state(site=b.site, now=NOW)
    assert [(p.load_id, p.value, p.start) for p in before.planned] == [(pump.pk, 50.0, hour)]
    services.evaluate_site(site=b.site, now=NOW)  # reads only
    (command,) = services.evaluate_site(site=b.site, now=hour + dt.timedelta(minutes=10))
    assert (command.load_id, command.value, command.reason) == (pump.pk, 50.0, "Ecowatt orange")
    assert building.get("holding", 10) == 50
    (back,) = services.evaluate_site(site=b.site, now=hour + dt.timedelta(minutes=61))
    assert back.value == 100.0


def test_a_confirmed_flex_ready_request_sheds_loads_in_its_window(tenant, building):
    """Annex 1: a confirmed request is the building's promise to reduce its power over the
    window; loads are chosen by priority then nominal power until the reduction is reached."""
    b = make_building(tenant, building)
    bacs = Bacs.objects.create(
        organisation=tenant.organisation, bacs_id="B1", name="Bureaux", metering_point=b.point
    )
    asset = Asset.objects.create(
        bacs=bacs,
        asset_id="A1",
        flex_product="LOAD_SHED",
        power_w=Decimal(60_000),
        mobilisation_delay_s=60,
        max_duration_s=7200,
        activations_per_day=2,
    )
    start, end = NOW + dt.timedelta(minutes=30), NOW + dt.timedelta(minutes=90)
    FlexRequest.objects.create(
        asset=asset,
        request_id="R1",
        flex_product="LOAD_SHED",
        program=[{"start": start.isoformat(), "end": end.isoformat(), "power_w": 45_000}],
        start=start,
        end=end,
        status=RequestStatus.CONFIRMED,
        received_at=NOW,
    )
    services.evaluate_site(site=b.site, now=NOW)
    assert services.evaluate_site(site=b.site, now=start - dt.timedelta(seconds=1)) == []
    shed = services.evaluate_site(site=b.site, now=start)
    assert {c.load_id for c in shed} == {b.loads[0].pk, b.loads[1].pk}  # 20 + 30 kW ≥ 45 kW
    assert {c.source for c in shed} == {"flexready.request"}
    restored = services.evaluate_site(site=b.site, now=end)
    assert {(c.load_id, c.value) for c in restored} == {(b.loads[0].pk, 1.0), (b.loads[1].pk, 1.0)}
