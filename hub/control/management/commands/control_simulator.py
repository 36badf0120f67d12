"""Run the demo equipment: the Modbus building and, if a broker answers, the MQTT plant."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from hub.control import demo
from hub.control.simulator import ModbusBuilding, MqttPlant, Output


class Command(BaseCommand):
    help = "Serve the demo building on Modbus TCP and the demo plant on MQTT (long-running)."

    def handle(self, *args: Any, **options: Any) -> None:
        outputs = [
            Output(register, int(address), int(full))
            for _n, _k, _p, _o, register, address, full, _policies in demo.LOADS
        ]
        building = ModbusBuilding(
            port=demo.modbus_port(),
            outputs=outputs,
            heartbeat_register=demo.HEARTBEAT_REGISTER,
            watchdog=dt.timedelta(seconds=60),
        ).start()
        self.stdout.write(f"Modbus building on 127.0.0.1:{building.port}")
        plant = None
        if demo.broker_reachable():
            host, port = demo.mqtt_address()
            plant = MqttPlant(
                host=host,
                port=port,
                prefix="demo/centrale",
                safe={"onduleurs": 100.0},
                watchdog=dt.timedelta(seconds=60),
            ).start(timezone.now)
            self.stdout.write(f"MQTT plant on {host}:{port} (demo/centrale)")
        else:
            self.stdout.write("No MQTT broker: the plant's site stays in dry run")
        stop = threading.Event()
        try:
            while not stop.wait(1.0):  # the equipment's own watchdog clock
                now = timezone.now()
                if building.check(now):
                    self.stdout.write("watchdog: building back to its safe state")
                if plant is not None and plant.check(now):
                    self.stdout.write("watchdog: plant back to full power")
        except KeyboardInterrupt:
            pass
        finally:
            building.stop()
            if plant is not None:
                plant.stop()
