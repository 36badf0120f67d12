"""In-process equipment for tests and the demo: a Modbus TCP building controller (pymodbus
server) and an MQTT plant, each returning its outputs to their safe values when the hub's
heartbeat stops for longer than its watchdog.

The watchdog is checked by ``check(now)``: the caller decides the clock (tests pass instants,
the demo a background thread), so no test waits for real time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from pymodbus.client import ModbusTcpClient
from pymodbus.datastore import (
    ModbusDeviceContext,
    ModbusSequentialDataBlock,
    ModbusServerContext,
)
from pymodbus.server import ModbusTcpServer


@dataclass
class Output:
    """One simulated output: a coil or a holding register, and its safe value."""

    register: str  # "coil" or "holding"
    address: int
    safe: int


class ModbusBuilding:
    """A building's controller on Modbus TCP, served by pymodbus in a thread of its own."""

    def __init__(
        self,
        *,
        port: int,
        outputs: list[Output],
        heartbeat_register: int,
        watchdog: dt.timedelta,
        unit: int = 1,
        host: str = "127.0.0.1",
    ) -> None:
        self.port, self.host, self.unit = port, host, unit
        self.outputs = outputs
        self.heartbeat_register = heartbeat_register
        self.watchdog = watchdog
        device = ModbusDeviceContext(
            co=ModbusSequentialDataBlock(1, [0] * 1000),
            hr=ModbusSequentialDataBlock(1, [0] * 1000),
        )
        self.context = ModbusServerContext(devices={unit: device})
        self._last_beat: int | None = None
        self._beat_seen_at: dt.datetime | None = None
        self.tripped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # The simulator reads and writes its own outputs as a Modbus client: pymodbus's datastore
    # internals change between releases, its client API does not.
    def get(self, register: str, address: int) -> int:
        with self._own_lock:
            if register == "coil":
                return int(self._own.read_coils(address, count=1, device_id=self.unit).bits[0])
            return self._own.read_holding_registers(
                address, count=1, device_id=self.unit
            ).registers[0]

    def set(self, register: str, address: int, value: int) -> None:
        with self._own_lock:
            if register == "coil":
                self._own.write_coil(address, bool(value), device_id=self.unit)
            else:
                self._own.write_register(address, value, device_id=self.unit)

    def check(self, now: dt.datetime) -> bool:
        """Apply the watchdog at ``now``; True when the outputs were returned to safe values."""
        beat = self.get("holding", self.heartbeat_register)
        if beat != self._last_beat:
            self._last_beat, self._beat_seen_at, self.tripped = beat, now, False
            return False
        if self._beat_seen_at is None or now - self._beat_seen_at < self.watchdog:
            return False
        for output in self.outputs:
            self.set(output.register, output.address, output.safe)
        self.tripped = True
        return True

    def start(self) -> ModbusBuilding:
        self._thread = threading.Thread(target=self._run, name="modbus-building", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Modbus simulator did not start")
        self._own = ModbusTcpClient(self.host, port=self.port, timeout=3)
        self._own_lock = threading.Lock()
        for output in self.outputs:
            self.set(output.register, output.address, output.safe)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def serve() -> None:
            # pymodbus binds its transport to the running loop: build the server inside it.
            self._server = ModbusTcpServer(self.context, address=(self.host, self.port))
            await self._server.listen()
            self._ready.set()
            await self._server.serving

        try:
            loop.run_until_complete(serve())
        finally:
            loop.close()

    def stop(self) -> None:
        """Stop serving (idempotent): the equipment goes away."""
        if self._loop is None:
            return
        self._own.close()
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        if self._thread is not None:
            self._thread.join(10)
        self._loop = None


@dataclass
class MqttPlant:
    """A plant on MQTT: applies ``<prefix>/<address>/set`` and answers on the retained state.

    ``power`` maps each address to its applied setpoint; ``safe`` to the value its watchdog
    falls back to (the plant's own rule, a guess: full power, as a plant without orders runs).
    """

    host: str
    port: int
    prefix: str
    safe: dict[str, float]
    watchdog: dt.timedelta
    power: dict[str, float] = field(default_factory=dict)
    _beat_seen_at: dt.datetime | None = None
    _clock: Callable[[], dt.datetime] | None = None
    beat_received: threading.Event = field(default_factory=threading.Event)

    def start(self, clock: Callable[[], dt.datetime]) -> MqttPlant:
        self._clock = clock
        self.power = dict(self.safe)
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"plant-{self.prefix}"
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.connect(self.host, self.port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise RuntimeError("the MQTT plant could not subscribe")
        for address, value in self.power.items():
            self._publish(address, value)
        return self

    def _on_connect(self, client: mqtt.Client, *args: object) -> None:
        client.subscribe([(f"{self.prefix}/+/set", 1), (f"{self.prefix}/heartbeat", 1)])

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/heartbeat"):
            self._beat_seen_at = self._clock() if self._clock else None
            self.beat_received.set()
            return
        address = msg.topic.split("/")[-2]
        try:
            value = float(msg.payload.decode())
        except (UnicodeDecodeError, ValueError):
            return
        self.power[address] = value
        self._publish(address, value)

    def _publish(self, address: str, value: float) -> None:
        self._client.publish(f"{self.prefix}/{address}/state", f"{value:g}", qos=1, retain=True)

    def check(self, now: dt.datetime) -> bool:
        if self._beat_seen_at is None or now - self._beat_seen_at < self.watchdog:
            return False
        for address, value in self.safe.items():
            self.power[address] = value
            self._publish(address, value)
        return True

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
