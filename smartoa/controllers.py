"""Smart OA's controller for ``hub.control``: the plant's setpoint during a stop order.

Seed rule (billing note): the first 5 minutes of a stop are neutralised so production can come
down, « Le producteur doit être à zéro à partir de » the stop's start + 5 min; the last 5 minutes
are neutralised so it can come back, « à pleine puissance » from the stop's end. So the setpoint
goes to the curtailment level at the stop's start and back to full power 5 minutes before its end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from hub.control.models import ControllableLoad, LoadKind
from hub.control.registry import Planned, Priority, Want, register
from hub.models import Site
from smartoa.models import Contract
from smartoa.schedule import Episode
from smartoa.selectors import setpoint

STOP = "smartoa.stop"
RAMP = dt.timedelta(minutes=5)


class PlantStop:
    """P5: a generator of the contract's site at its ``level`` (default 0) during a stop."""

    name = STOP
    priority = Priority.SMARTOA_STOP

    def _plants(
        self, site: Site, loads: Sequence[ControllableLoad]
    ) -> list[tuple[Contract, list[ControllableLoad]]]:
        plants = [x for x in loads if x.kind == LoadKind.GENERATOR]
        if not plants:
            return []
        contracts = Contract.objects.filter(organisation_id=site.organisation_id, site=site)
        result = []
        for contract in contracts:
            mine = [
                x
                for x in plants
                if x.policies.get(STOP, {}).get("contract", contract.contract_id)
                == contract.contract_id
            ]
            if mine:
                result.append((contract, mine))
        return result

    @staticmethod
    def _window(episode: Episode) -> tuple[dt.datetime, dt.datetime]:
        # Stops shorter than 10 minutes leave no time at the curtailment level.
        return episode.start, max(episode.start, episode.end - RAMP)

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]:
        wants = []
        for contract, plants in self._plants(site, loads):
            current = setpoint(contract=contract, now=now).current
            if current is None:
                continue
            start, end = self._window(current)
            if start <= now < end:
                for plant in plants:
                    level = float(plant.policies.get(STOP, {}).get("level", 0.0))
                    reason = (
                        f"arrêt Smart OA {contract.contract_id} jusqu'à {current.end:%H:%M} UTC"
                    )
                    wants.append(Want(plant.pk, level, reason))
        return wants

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]:
        planned = []
        for contract, plants in self._plants(site, loads):
            upcoming = setpoint(contract=contract, now=now).next
            if upcoming is None:
                continue
            start, end = self._window(upcoming)
            for plant in plants:
                level = float(plant.policies.get(STOP, {}).get("level", 0.0))
                planned.append(
                    Planned(plant.pk, level, start, end, f"arrêt Smart OA {contract.contract_id}")
                )
        return planned


def register_all() -> None:
    register(PlantStop())
