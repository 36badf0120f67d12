"""A confirmed Flex Ready request, executed by the control layer, measured on the building's TIC
meter through the real ``tic_read``, and read back through the API.

Issue "one hub" §4: « with a TIC meter on the building's PRM, a confirmed request's measured and
delivered power come from the meter with no other setting. End-to-end test: frames through a pty
pair into ``tic_read``, a request created and confirmed through the API, the realisation read
through the API. » Issue "control" §8 and §11: « a confirmed request sheds the asset's loads from
start to end to reach the confirmed power reduction … with the realisation then measuring it
(… from the TIC meter) »; « a Flex Ready request confirmed through the API → loads shed in the
window → realisation ≈ confirmed reduction ».

The building: four loads on a real pymodbus TCP server (the building's controller), a simulated
PME-PMI (PS in kVA, so its own power over Td is apparent and the active power is derived from
``EA_s``) whose power is the base load plus the loads left on, on a pty pair read by
``manage.py tic_read``. The reader's clock is stepped by the test (``tests.steppedclock``) from
11:56 on the request day, one frame every 5 s of meter time: the clock is moved to the frame's
instant, the frame is written, and the next one waits until the reader's ingest has handled it.
The control layer is evaluated after each frame, at its instant, as beat would every 5 s; so the
loads change exactly on a frame, every frame is booked at the instant it was sent, and the
energies are exact whatever the machine's load: the only tolerance left is the meter's rounding
(``EA_s`` is a whole number of Wh, 02E §2.9.3). The baseline day before was
measured by the same meter model through the same ingestion path.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from flexready.models import Asset
from hub.actors import Actor
from hub.control import services as control
from hub.control.models import Command, ControllableLoad
from hub.control.simulator import ModbusBuilding
from tests.conftest import Tenant
from tests.flexready.conftest import paris
from tests.hub.control.conftest import _fresh_driver_pool, building, make_building  # noqa: F401
from tests.processes import wait_until
from tests.smartoa.test_tic_billing_e2e import stepped_tic_read  # noqa: F401
from tests.steppedclock import SteppedClock
from tic import services as tic_services
from tic.ingest import Ingestor, Received
from tic.models import TicPort
from tic.protocol import TicStreamDecoder, with_parity
from tic.simulator import SimulatedPmePmi

BACS_1 = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
ASSET = f"/api/v1/operator/bacs/{BACS_1}/assets/WholeBuilding"
START, END = paris(2025, 4, 2, 12, 0), paris(2025, 4, 2, 12, 20)  # the annex's allowed day
BASE_W = 60_000.0
PS_KVA = 250
FRAME_EVERY = dt.timedelta(seconds=5)
# EA_s is sent in whole Wh (02E §2.9.3): a 5-minute step's energy, the difference of two
# truncated values, is within 1 Wh of the energy drawn; measured and baseline each, so a step's
# mean power within 2 Wh x 12 = 0.024 kW.
STEP_ROUNDING_KW = 0.024


def drawn_w(sim: ModbusBuilding, loads: list[ControllableLoad]) -> float:
    total = BASE_W
    for load in loads:
        raw = sim.get(load.register, int(load.address))
        total += load.nominal_power_w * raw / (1 if load.register == "coil" else load.full_value)
    return total


class PtyBuildingMeter:
    """The building's meter on the master side of a pty: the power it books for the time since
    its previous frame is what the loads draw when the frame is sent."""

    def __init__(self, link: Path, sim: ModbusBuilding, loads: list[Any]) -> None:
        self.link, self.sim, self.loads = link, sim, loads
        self.meter = SimulatedPmePmi(ads="041436028024", ps_kva=PS_KVA)
        self.master, self.slave = os.openpty()
        link.symlink_to(os.ttyname(self.slave))

    def send(self, at: dt.datetime) -> None:
        watts = drawn_w(self.sim, self.loads)
        frame = self.meter.frame(at=at, power_va=watts / self.meter.power_factor)
        os.write(self.master, with_parity(frame))

    def close(self) -> None:
        self.link.unlink(missing_ok=True)
        os.close(self.master)
        os.close(self.slave)


def _baseline_day(port: TicPort, meter: SimulatedPmePmi, watts: float) -> None:
    """The Tuesday before, same window, every load on: through the same ingestion path."""
    ingestor = Ingestor()
    at = START - dt.timedelta(days=1, minutes=5)
    while at < END - dt.timedelta(days=1) + dt.timedelta(minutes=5):
        raw = meter.frame(at=at, power_va=watts / meter.power_factor)
        for frame in TicStreamDecoder().feed(raw):
            ingestor.handle(Received(port.pk, frame, at, 9600))
        at += dt.timedelta(seconds=5)
    ingestor.flush(now=at)


def _request(value_kw: float) -> dict[str, Any]:
    return {
        "requestID": "r-tic",
        "flexProduct": "WID",
        "power": [
            {
                "power": {"unit": "W", "multiplier": "k", "value": value_kw},
                "start": "2025-04-02T12:00:00",
                "end": "2025-04-02T12:20:00",
            }
        ],
    }


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_request_is_shed_and_measured_on_the_tic_meter(
    tmp_path: Path,
    tenant: Tenant,
    jwt_client: APIClient,
    clock: Callable[[dt.datetime], None],
    building: ModbusBuilding,  # noqa: F811
    stepped_tic_read: Callable[[SteppedClock], subprocess.Popen[bytes]],  # noqa: F811
    settings: Any,
) -> None:
    settings.FLEXREADY_BASELINE_DAYS = 1
    # The annex's asset allows 2-minute requests; this building declares half an hour, so the
    # window spans several 5-minute meter steps.
    Asset.objects.filter(bacs__bacs_id=BACS_1, asset_id="WholeBuilding").update(max_duration_s=1800)
    b = make_building(tenant, building)
    # The loads sit behind the building's PRM, the point the BACS is measured on.
    ControllableLoad.objects.filter(site=b.site).update(metering_point=tenant.point)
    loads = list(ControllableLoad.objects.filter(site=b.site).order_by("priority"))
    first = START - dt.timedelta(minutes=4)
    stepped = SteppedClock(first, tmp_path / "clock")
    meter = PtyBuildingMeter(tmp_path / "ttyTIC0", building, loads)
    port = tic_services.add_port(
        organisation=tenant.organisation, url=str(meter.link), family="pmepmi", baud="9600",
        metering_point=tenant.point, actor=Actor.system("test"), now=timezone.now(),
    )  # fmt: skip
    every_load_on = BASE_W + sum(x.nominal_power_w for x in loads)
    _baseline_day(port, SimulatedPmePmi(ads="041436028024", ps_kva=PS_KVA), every_load_on)

    # The operator asks for 50 kW at 11:00 and the BACS confirms it (Annex 1).
    clock(paris(2025, 4, 2, 11, 0))
    created = jwt_client.post(f"{ASSET}/flexibilities/request", _request(50), format="json")
    assert created.status_code == 201, created.content
    body = {k: v for k, v in _request(50).items() if k != "requestID"}
    confirmed = jwt_client.post(f"{ASSET}/flexibilities/request/r-tic/confirm", body, format="json")
    assert confirmed.status_code == 200, confirmed.content

    process = stepped_tic_read(stepped)
    deadline = time.monotonic() + 240
    wait_until(lambda: TicPort.objects.get(pk=port.pk).state != "stopped", deadline, "the reader")
    try:
        at = first
        while at <= END + dt.timedelta(minutes=1):
            stepped.move(at)
            meter.send(at)
            # Booked at the instant it was sent for, before the clock moves on.
            assert stepped.handled() == ("valid", at)
            control.evaluate_site(site=b.site, now=at)
            at += FRAME_EVERY
    finally:
        process.terminate()  # tic_read stops on SIGTERM and writes what it holds
        process.wait(timeout=30)
        stepped.close()
        meter.close()

    # The control layer shed the water heater and the cooling (50 kW) from the window's start,
    # the first evaluation at or after it, and gave them back at its end.
    commands = list(Command.objects.filter(load__in=loads[:2]).order_by("at", "load_id"))
    shed = [c for c in commands if c.value == 0.0]
    assert {c.source for c in shed} == {"flexready.request"}
    assert [(c.load_id, c.at) for c in shed] == [(loads[0].pk, START), (loads[1].pk, START)]
    assert [c.at for c in commands if c.value != 0.0] == [END, END]
    assert not Command.objects.exclude(load__in=loads[:2]).exists()

    clock(END + dt.timedelta(minutes=10))
    response = jwt_client.get(f"{ASSET}/flexibilities/request/r-tic/consumptions")
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["measurementStatus"] == "complete", result
    assert result["stepSeconds"] == 300 and len(result["steps"]) == 4
    # flexready/README.md: « Delivered = baseline - measured, per cell (kW) and in total (kWh) »;
    # the loads were off for exactly the window, so 50 kW in each 5-minute cell and 50 kW for
    # 20 minutes in total, to the meter's rounding.
    for step in result["steps"]:
        assert step["delivered"]["value"] == pytest.approx(50, abs=STEP_ROUNDING_KW), step
    delivered = result["total"]["delivered"]["value"]
    assert delivered == pytest.approx(50 * 20 / 60, abs=STEP_ROUNDING_KW * 4 / 12), result
