"""Modbus TCP through pymodbus: a coil (on/off) or a holding register (scaled setpoint) per load."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from hub.control.drivers.base import Ack, DriverError

if TYPE_CHECKING:
    from hub.control.models import ActuatorChannel, ControllableLoad


class ModbusDriver:
    def __init__(self, channel: ActuatorChannel) -> None:
        self.unit = channel.unit_id
        self.heartbeat_register = channel.heartbeat_register
        self._client = ModbusTcpClient(
            channel.host,
            port=channel.port or 502,
            timeout=channel.timeout_seconds,
            retries=1,
        )
        # One request at a time on the connection: pymodbus's sync client is not thread-safe.
        self._lock = threading.Lock()

    def _connected(self) -> ModbusTcpClient:
        if not self._client.connected and not self._client.connect():
            raise DriverError("connexion Modbus impossible")
        return self._client

    def write(self, load: ControllableLoad, value: float) -> Ack:
        address = int(load.address)
        with self._lock:
            try:
                client = self._connected()
                if load.register == "coil":
                    result = client.write_coil(address, value >= 0.5, device_id=self.unit)
                else:
                    raw = round(value * load.scale)
                    if not 0 <= raw <= 0xFFFF:
                        raise DriverError(f"valeur hors registre : {raw}")
                    result = client.write_register(address, raw, device_id=self.unit)
                if result.isError():
                    raise DriverError(f"écriture refusée : {result}")
                return Ack(self._read(client, load))
            except ModbusException as exc:
                raise DriverError(str(exc)[:300]) from exc

    def read(self, load: ControllableLoad) -> float:
        with self._lock:
            try:
                return self._read(self._connected(), load)
            except ModbusException as exc:
                raise DriverError(str(exc)[:300]) from exc

    def _read(self, client: ModbusTcpClient, load: ControllableLoad) -> float:
        address = int(load.address)
        if load.register == "coil":
            result = client.read_coils(address, count=1, device_id=self.unit)
            if result.isError():
                raise DriverError(f"lecture refusée : {result}")
            return 1.0 if result.bits[0] else 0.0
        answer = client.read_holding_registers(address, count=1, device_id=self.unit)
        if answer.isError():
            raise DriverError(f"lecture refusée : {answer}")
        return answer.registers[0] / (load.scale or 1.0)

    def heartbeat(self, counter: int) -> None:
        if self.heartbeat_register is None:
            return
        with self._lock:
            try:
                result = self._connected().write_register(
                    self.heartbeat_register, counter & 0xFFFF, device_id=self.unit
                )
            except ModbusException as exc:
                raise DriverError(str(exc)[:300]) from exc
            if result.isError():
                raise DriverError(f"signal de vie refusé : {result}")

    def close(self) -> None:
        self._client.close()
