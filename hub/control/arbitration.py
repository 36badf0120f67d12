"""The arbitration rule: which controller holds each load, and whether its limits allow a change.

Pure Python (no ORM), so the property tests exercise it directly. Rule:

1. The want of the lowest ``Priority`` wins each load (ties: the lower value, i.e. the safer
   shed); nobody wanting a load means its normal value (``full``): a reason that ends restores.
2. A change that would break the load's minimum on or off time or its maximum off time per day
   is held back, unless the winner is safety or a manual override.
3. A load already at its target gets no command: at most one command per load and evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hub.control.registry import Priority

DEFAULT = "défaut"


@dataclass(frozen=True)
class LoadState:
    load_id: int
    value: float | None  # None: not known yet (nothing is commanded before a read)
    full: float
    changed_at: dt.datetime | None
    min_on_s: float = 0
    min_off_s: float = 0
    max_off_s_per_day: float | None = None
    off_s_today: float = 0


@dataclass(frozen=True)
class Request:
    load_id: int
    value: float
    source: str
    priority: Priority
    reason: str


@dataclass(frozen=True)
class Decision:
    load_id: int
    target: float
    holder: str  # the winning source, or DEFAULT
    reason: str
    send: bool  # False: already there, or held back by a limit
    blocked: str = ""  # why a wanted change is held back


def _is_off(value: float, full: float) -> bool:
    return value < full


def arbitrate(
    *, loads: Sequence[LoadState], requests: Iterable[Request], now: dt.datetime
) -> list[Decision]:
    best: dict[int, Request] = {}
    for request in requests:
        current = best.get(request.load_id)
        if current is None or (request.priority, request.value) < (current.priority, current.value):
            best[request.load_id] = request
    decisions = []
    for load in loads:
        winner = best.get(load.load_id)
        if winner is None:
            target, holder, reason, priority = load.full, DEFAULT, "", None
        else:
            target, holder, reason, priority = (
                winner.value,
                winner.source,
                winner.reason,
                winner.priority,
            )
        if (
            (priority is None or priority > Priority.MANUAL)
            and _is_off(target, load.full)
            and load.max_off_s_per_day is not None
            and load.off_s_today >= load.max_off_s_per_day
        ):
            # The daily maximum outranks every controller; only safety and manual go past it.
            target, holder, reason, priority = (
                load.full,
                DEFAULT,
                "arrêt maximal du jour atteint",
                None,
            )
            if load.value is not None and target != load.value:
                decisions.append(Decision(load.load_id, target, holder, reason, True))
                continue
        if load.value is None:
            decisions.append(Decision(load.load_id, target, holder, reason, False, "état inconnu"))
            continue
        if target == load.value:
            decisions.append(Decision(load.load_id, target, holder, reason, False))
            continue
        blocked = ""
        if priority is None or priority > Priority.MANUAL:
            blocked = _limit(load, target, now)
        decisions.append(Decision(load.load_id, target, holder, reason, not blocked, blocked))
    return decisions


def _limit(load: LoadState, target: float, now: dt.datetime) -> str:
    """Why switching ``load`` to ``target`` now breaks one of its limits ('' if it does not)."""
    was_off = _is_off(load.value or 0.0, load.full)
    goes_off = _is_off(target, load.full)
    elapsed = (now - load.changed_at).total_seconds() if load.changed_at else None
    if goes_off and not was_off:
        if elapsed is not None and elapsed < load.min_on_s:
            return "durée minimale de marche"
        if load.max_off_s_per_day is not None and load.off_s_today >= load.max_off_s_per_day:
            return "arrêt maximal du jour atteint"
    if was_off and not goes_off and elapsed is not None and elapsed < load.min_off_s:
        return "durée minimale d'arrêt"
    return ""
