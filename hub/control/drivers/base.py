"""The one interface every actuator driver implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hub.control.models import ControllableLoad


class DriverError(Exception):
    """The equipment could not be reached or did not answer as expected."""


@dataclass(frozen=True)
class Ack:
    value: float  # the value read back after the write, in the load's units


class Driver(Protocol):
    def write(self, load: ControllableLoad, value: float) -> Ack:
        """Write ``value`` and read it back; raises DriverError."""
        ...

    def read(self, load: ControllableLoad) -> float:
        """The load's current value as the equipment reports it; raises DriverError."""
        ...

    def heartbeat(self, counter: int) -> None:
        """Refresh the equipment's watchdog; raises DriverError."""
        ...

    def close(self) -> None: ...
