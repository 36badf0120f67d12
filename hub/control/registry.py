"""The controllers the apps contribute, registered from their ``AppConfig.ready``.

``hub`` never imports a domain app: each app registers its controllers here and the engine asks
every registered one what it wants for a site's loads.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hub.control.models import ControllableLoad
    from hub.models import Site


class Priority(enum.IntEnum):
    """Who wins a load: the lowest number. The documented order of the arbitration rule."""

    SAFETY = 0
    MANUAL = 1
    SMARTOA_STOP = 2
    FLEXREADY_REQUEST = 3
    POWER_SERVO = 4
    ECOWATT = 5
    TARIFF = 6


@dataclass(frozen=True)
class Want:
    """A controller asks for ``value`` on a load now, and says why (shown to operators)."""

    load_id: int
    value: float
    reason: str


@dataclass(frozen=True)
class Planned:
    """A value a controller will ask for later (the portal announces it)."""

    load_id: int
    value: float
    start: dt.datetime
    end: dt.datetime
    reason: str


class Controller(Protocol):
    name: str
    priority: Priority

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]: ...

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]: ...


_CONTROLLERS: dict[str, Controller] = {}


class DuplicateController(Exception):
    """Two controllers registered under one name."""


def register(controller: Controller) -> None:
    existing = _CONTROLLERS.get(controller.name)
    if existing is not None and existing is not controller:
        raise DuplicateController(controller.name)
    _CONTROLLERS[controller.name] = controller


def unregister(name: str) -> None:
    _CONTROLLERS.pop(name, None)


def controllers() -> list[Controller]:
    return sorted(_CONTROLLERS.values(), key=lambda c: (c.priority, c.name))


def get(name: str) -> Controller | None:
    return _CONTROLLERS.get(name)
