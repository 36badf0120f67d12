"""What the TIC ingest shows outside the hub: Prometheus metrics and MQTT states and events.

Small calls from ``tic.ingest`` (no database, no network here: MQTT goes through hub's queue).
Labels are the port's and the meter's ids in the hub, not the meter's address.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from hub import metrics, mqtt, quantities
from hub.mqtt import Device, Entity
from tic.models import EventKind, PortState, TicMeter
from tic.protocol import Frame
from tic.usecases import Event as MeterEvent
from tic.usecases import MeterRuntime

POWER = Entity(
    quantities.ACTIVE_POWER_IMPORT.name,
    "Puissance moyenne sur Td",
    unit="W",
    device_class="power",
    state_class="measurement",
)
APPARENT = Entity(
    quantities.APPARENT_POWER_IMPORT.name,
    "Puissance apparente moyenne sur Td",
    unit="VA",
    device_class="apparent_power",
    state_class="measurement",
)
SUBSCRIBED = Entity(
    quantities.SUBSCRIBED_POWER.name,
    "Puissance souscrite",
    unit="W",
    device_class="power",
    state_class="measurement",
)
SUBSCRIBED_VA = Entity(
    quantities.SUBSCRIBED_POWER.name,
    "Puissance souscrite",
    unit="VA",
    device_class="apparent_power",
    state_class="measurement",
)
SHARE = Entity(
    quantities.SUBSCRIBED_POWER_SHARE.name,
    "Part de la puissance souscrite",
    unit="%",
    state_class="measurement",
    icon="mdi:gauge",
)
DRIFT = Entity(
    quantities.CLOCK_DRIFT.name,
    "Dérive de l'horloge",
    unit="s",
    device_class="duration",
    state_class="measurement",
)
PREAVIS = Entity(
    "preavis", "Préavis de dépassement", component="binary_sensor", device_class="problem"
)
PREAVIS_EVENTS = Entity(
    "preavis_event",
    "Préavis de dépassement (événements)",
    component="event",
    event_types=(EventKind.PREAVIS_START.value, EventKind.PREAVIS_END.value),
)


# Label children looked up once per port and meter: ``labels()`` costs more than the update.
_ports: dict[int, tuple[Any, Any, Any, Any]] = {}
_meters: dict[int, list[Any]] = {}


def _port(port_id: int) -> tuple[Any, Any, Any, Any]:
    children = _ports.get(port_id)
    if children is None:
        label = str(port_id)
        frames = metrics.TIC_FRAMES
        children = _ports[port_id] = (
            frames.labels(label, "valid"),
            frames.labels(label, "invalid"),
            frames.labels(label, "interrupted"),
            metrics.TIC_BYTES.labels(label),
        )
    return children


def frame(port_id: int, received: Frame) -> None:
    valid, invalid, interrupted, received_bytes = _port(port_id)
    (interrupted if received.interrupted else valid if received.valid else invalid).inc()
    received_bytes.inc(len(received.raw))


def noise(port_id: int, noise_bytes: int) -> None:
    if noise_bytes:
        _port(port_id)[3].inc(noise_bytes)


def lease_lost(port_id: int) -> None:
    metrics.TIC_LEASE_REFUSED.labels(str(port_id)).inc()


def port_state(port_id: int, state: str) -> None:
    metrics.TIC_PORT_UP.labels(str(port_id)).set(1 if state == PortState.READING else 0)


def meter(row: TicMeter, runtime: MeterRuntime, events: Iterable[MeterEvent]) -> None:
    """After each valid frame: the meter's gauges, and its states to MQTT (rate-limited per
    meter by the broker's minimum interval; at once when PREAVIS starts or ends)."""
    gauges = _meters.get(row.pk)
    if gauges is None:
        label = str(row.pk)
        gauges = _meters[row.pk] = [
            metrics.TIC_CLOCK_DRIFT.labels(label), None,
            metrics.TIC_POWER_SHARE.labels(label), None,
        ]  # fmt: skip
    # Set on change only: the share moves at the Td pace, the drift once per DATE.
    if runtime.drift is not None and runtime.drift != gauges[1]:
        gauges[0].set(runtime.drift)
        gauges[1] = runtime.drift
    if runtime.power_share is not None and runtime.power_share != gauges[3]:
        gauges[2].set(runtime.power_share)
        gauges[3] = runtime.power_share
    if not mqtt.configured(row.organisation_id):
        return
    preavis = [e.kind for e in events if e.kind in (EventKind.PREAVIS_START, EventKind.PREAVIS_END)]
    device = _device(row, runtime)
    mqtt.publish_states(
        organisation_id=row.organisation_id,
        device=device,
        values=_values(runtime),
        force=bool(preavis),
    )
    for kind in preavis:
        mqtt.publish_event(
            organisation_id=row.organisation_id,
            device=device,
            entity=PREAVIS_EVENTS,
            event_type=str(kind),
            attributes={"power_share": runtime.power_share},
        )


def _device(row: TicMeter, runtime: MeterRuntime) -> Device:
    return Device(
        key=f"tic_meter_{row.pk}",
        name=f"Compteur {row.identifier}",
        model=runtime.family or row.family,
        manufacturer="Enedis",
    )


def _watts(value: float | None, unit: str) -> float | None:
    # HA's power and apparent power classes take W and VA: kW and kVA are scaled.
    if value is None:
        return None
    return value * 1000 if unit.lower().startswith("k") else value


def _values(runtime: MeterRuntime) -> Iterator[tuple[Entity, object]]:
    apparent = runtime.power_unit.upper().endswith("VA")
    yield (APPARENT if apparent else POWER), _watts(runtime.power, runtime.power_unit)
    yield (
        (SUBSCRIBED_VA if apparent else SUBSCRIBED),
        _watts(runtime.subscribed_power, runtime.power_unit),
    )
    yield SHARE, runtime.power_share
    yield DRIFT, runtime.drift
    yield PREAVIS, runtime.preavis
    for calendar, period in sorted(runtime.tariff_periods.items()):
        yield _tariff_entity(calendar), period
    for name, (value, _at) in sorted(runtime.accepted.items()):
        if quantities.is_index(name):
            yield _index_entity(name), value


@cache
def _tariff_entity(calendar: str) -> Entity:
    tariff = quantities.tariff_period_for(calendar)
    return Entity(tariff.name, tariff.label, icon="mdi:clock-outline")


@cache
def _index_entity(quantity: str) -> Entity:
    # total_increasing and an energy unit: what HA's energy dashboard takes.
    known = quantities.get(quantity)
    name = known.label if known is not None else quantity
    return Entity(quantity, name, unit="Wh", device_class="energy", state_class="total_increasing")
