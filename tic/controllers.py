"""TIC's controllers for ``hub.control``: the subscribed-power servo and tariff piloting.

Flex Ready référentiel §2.4.3: the TIC data exist for two uses, « asservissement à la puissance
souscrite » (PREAVIS, PS, KDC/KDCD) and « pilotage tarifaire » (PTCOUR1/2, PTCOURD/F, LTARF).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.conf import settings

from hub.control.models import ControllableLoad, LoadKind
from hub.control.registry import Planned, Priority, Want, register
from hub.models import Site
from tic.models import TicMeter

SERVO = "tic.servo"
TARIFF = "tic.tariff"
SHEDDABLE = (LoadKind.SHEDDABLE, LoadKind.SHIFTABLE)


def _number(value: Any) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _meters(site: Site, loads: Sequence[ControllableLoad]) -> dict[int, TicMeter]:
    points = {load.metering_point_id for load in loads if load.metering_point_id}
    meters = TicMeter.objects.filter(
        organisation_id=site.organisation_id, metering_point_id__in=points
    ).order_by("-updated_at")
    found: dict[int, TicMeter] = {}
    for meter in meters:
        found.setdefault(meter.metering_point_id, meter)  # the freshest meter of a point
    return found


def servo_thresholds(values: Mapping[str, Any]) -> tuple[float, float]:
    """The servo's shed and release shares of PS (%): the meter's KDC/KDCD when it sends them
    (SAPHIR), else ``CONTROL_SERVO_SHED_PERCENT`` (90) and ``CONTROL_SERVO_RELEASE_PERCENT``
    (80)."""
    kdc = _number(values.get("KDC"))
    kdcd = _number(values.get("KDCD"))
    shed = kdc if kdc else float(getattr(settings, "CONTROL_SERVO_SHED_PERCENT", 90.0))
    release = kdcd if kdcd else float(getattr(settings, "CONTROL_SERVO_RELEASE_PERCENT", 80.0))
    return shed, min(release, shed)


def _td_minutes(meter: TicMeter) -> float:
    """The meter's integration period: SAPHIR's own ``TD``, else the port's setting."""
    return _number(meter.last_values.get("TD")) or float(meter.port.integration_minutes)


def _ps_watts(meter: TicMeter) -> float | None:
    if not meter.subscribed_power:
        return None
    factor = 1000.0 if meter.power_unit.lower().startswith("k") else 1.0
    return meter.subscribed_power * factor


class PowerServo:
    """P1: shed loads by priority on PREAVIS (or at a share of PS), restore them in reverse.

    Thresholds: the meter's own KDC/KDCD when it sends them (SAPHIR), else the settings
    ``CONTROL_SERVO_SHED_PERCENT`` (90: PME-PMI's PREAVIS threshold) and
    ``CONTROL_SERVO_RELEASE_PERCENT`` (80). Between the two nothing changes (hysteresis).
    Restore with headroom: nothing comes back until Td has passed since the last shed (the mean
    then covers only the building as it is now); then the last shed load comes back only when
    the share plus its nominal power (plus what loads restored less than Td ago add that the
    mean does not show yet) stays under the release threshold. When PS or the power is unknown
    the loads come back.
    """

    name = SERVO
    priority = Priority.POWER_SERVO

    def thresholds(self, meter: TicMeter) -> tuple[float, float]:
        return servo_thresholds(meter.last_values)

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]:
        meters = _meters(site, loads)
        wants: list[Want] = []
        for point_id, meter in meters.items():
            eligible = [
                load
                for load in loads
                if load.metering_point_id == point_id
                and load.kind in SHEDDABLE
                and load.policies.get(SERVO, {}).get("enabled", True)
            ]
            eligible.sort(key=lambda x: (x.priority, x.pk))
            shed = self._shed(meter, eligible, now)
            share = meter.power_share
            reason = f"préavis de dépassement ({share:g} % de PS)" if share else "préavis"
            wants.extend(Want(load.pk, 0.0, reason) for load in shed)
        return wants

    def _shed(
        self, meter: TicMeter, eligible: list[ControllableLoad], now: dt.datetime
    ) -> list[ControllableLoad]:
        held = [load for load in eligible if load.held_by == SERVO]
        free = [load for load in eligible if load.held_by != SERVO]
        shed_at, release_at = self.thresholds(meter)
        share = meter.power_share
        ps = _ps_watts(meter)

        def share_of(load: ControllableLoad) -> float | None:
            return 100 * load.nominal_power_w / ps if ps else None

        if meter.preavis_active or (share is not None and share >= shed_at):
            chosen = list(held)
            if share is not None and ps:
                needed = share - release_at
                covered = sum(share_of(x) or 0 for x in chosen)
                for load in free:
                    if covered >= needed:
                        break
                    chosen.append(load)
                    covered += share_of(load) or 0
            rest = [x for x in free if x not in chosen]
            if (
                meter.preavis_active
                and len(chosen) == len(held)
                and rest
                and self._settled(held, now)
            ):
                # PREAVIS follows the 1-minute power, the share the Td mean: while PREAVIS
                # lasts one more load goes, once the previous shed had time to show.
                chosen.append(rest[0])
            return chosen
        if share is not None and share > release_at:
            return held  # inside the hysteresis band
        if not held:
            return []
        last = held[-1]  # restored first: the reverse of the shed order
        room = share_of(last)
        if share is None or room is None:
            return held[:-1]  # no PS or no power: nothing to weigh the restore against
        td = dt.timedelta(minutes=_td_minutes(meter))
        sheds = [x.changed_at for x in held if x.changed_at is not None]
        if sheds and now - max(sheds) < td:
            # The mean over Td still holds minutes from before the last shed: it cannot tell
            # the base load now (a base that rose is what caused the shed). Wait for it.
            return held
        # Headroom: the load is restored only if its nominal power fits under the release
        # threshold, counting the loads switched back on less than Td ago at the share the
        # mean over Td does not show yet (else a second restore follows the first before the
        # mean has seen it, the power overruns, PREAVIS returns and the loads flap).
        unseen = self._unseen_share(eligible, now, td, share_of)
        if share + unseen + room >= release_at:
            return held
        return held[:-1]

    @staticmethod
    def _unseen_share(
        eligible: list[ControllableLoad],
        now: dt.datetime,
        td: dt.timedelta,
        share_of: Callable[[ControllableLoad], float | None],
    ) -> float:
        """Share of PS drawn by loads switched on less than Td ago that the mean over the last
        Td minutes leaves out: the part of the window they were still off."""
        unseen = 0.0
        for load in eligible:
            if load.held_by == SERVO or load.is_off() or load.changed_at is None:
                continue
            since = now - load.changed_at
            if since < td:
                unseen += (share_of(load) or 0.0) * (1 - since / td)
        return unseen

    @staticmethod
    def _settled(held: list[ControllableLoad], now: dt.datetime) -> bool:
        settle = dt.timedelta(seconds=getattr(settings, "CONTROL_SERVO_SETTLE_SECONDS", 60))
        changes = [x.changed_at for x in held if x.changed_at is not None]
        return not changes or now - max(changes) >= settle

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]:
        return []


class TariffPiloting:
    """P2: per load, a value per tariff period of the meter's current period.

    Policy: ``{"calendar": "fournisseur", "on": ["HC"], "off": ["HP"], "off_value": 0}``; a
    period in neither list leaves the load to the others (or its normal value).
    """

    name = TARIFF
    priority = Priority.TARIFF

    def wants(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Want]:
        meters = _meters(site, loads)
        wants = []
        for load in loads:
            policy = load.policies.get(TARIFF)
            meter = meters.get(load.metering_point_id or 0)
            if not policy or meter is None or not meter.tariff_periods:
                continue
            calendar = policy.get("calendar")
            period = meter.tariff_periods.get(calendar) if calendar else None
            period = period or next(iter(meter.tariff_periods.values()))
            label = str(period).strip().upper()
            if label in {str(p).upper() for p in policy.get("off", [])}:
                value = float(policy.get("off_value", 0.0))
                wants.append(Want(load.pk, value, f"période tarifaire {period} : arrêt"))
            elif label in {str(p).upper() for p in policy.get("on", [])}:
                wants.append(Want(load.pk, load.full_value, f"période tarifaire {period} : marche"))
        return wants

    def planned(
        self, *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
    ) -> list[Planned]:
        return []


def register_all() -> None:
    register(PowerServo())
    register(TariffPiloting())
