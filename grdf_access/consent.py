"""What the consent allows: the one gate every GRDF request, read and export goes through.

A right allows data of type T for days D when all of these hold (seed 000, "Conformité
réglementaire & RGPD": consent dates, type, data range):

* the right is Active at GRDF;
* today (Paris) lies within the consent dates: the consent says *when* the hub may ask;
* T is one of the types granted;
* D lies within the data range, itself bounded by the commissioning (MES) date and the end of
  the consent.

The default-rights table of the same seed says which types need the customer's consent at all:
a holder supplier has published, contractual and technical data by default and needs consent
only for informative data; a non-holder has technical data by default only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from grdf_access.models import AccessRight, DataType, RightState

# Seed 000, "Rappel, droits accès par défaut des Fournisseurs".
DEFAULT_ACCESS: dict[bool, frozenset[str]] = {
    True: frozenset({DataType.PUBLISHED, DataType.CONTRACTUAL, DataType.TECHNICAL}),
    False: frozenset({DataType.TECHNICAL}),
}

# Data that have no date of their own: the window's days do not apply to them.
UNDATED_TYPES = frozenset({DataType.CONTRACTUAL, DataType.TECHNICAL})


def needs_consent(*, holder: bool, data_type: str) -> bool:
    """Whether a supplier (holder of the supply contract or not) needs consent for a type."""
    return data_type not in DEFAULT_ACCESS[holder]


def default_types(*, holder: bool) -> frozenset[str]:
    return DEFAULT_ACCESS[holder]


@dataclass(frozen=True)
class Window:
    """Local days ``[start, end)`` of data a right lets the hub ask for or show."""

    start: dt.date
    end: dt.date

    def contains(self, start: dt.date, end: dt.date) -> bool:
        return self.start <= start and end <= self.end

    def as_json(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""  # in French: shown to portal users and API callers as is
    window: Window | None = None
    right: AccessRight | None = None


def decide(*, right: AccessRight, data_type: str, today: dt.date) -> Decision:
    """Whether ``right`` allows ``data_type`` today, and for which days."""
    if right.state != RightState.ACTIVE:
        return Decision(
            False, f"le droit d'accès n'est pas actif (état : {right.get_state_display()})"
        )
    if today < right.consent_start:
        return Decision(False, f"le consentement ne commence que le {right.consent_start:%d/%m/%Y}")
    if today > right.consent_end:
        return Decision(False, f"le consentement a pris fin le {right.consent_end:%d/%m/%Y}")
    if not right.grants(data_type):
        label = DataType(data_type).label
        return Decision(False, f"le type de données « {label} » n'est pas couvert par le droit")
    start = right.data_start
    if right.pce.mes_date is not None:
        start = max(start, right.pce.mes_date)
    # The range's last day is included; nothing after today exists yet.
    end = min(right.data_end, today) + dt.timedelta(days=1)
    if start >= end:
        return Decision(False, "la plage de données autorisée est vide", right=right)
    return Decision(True, window=Window(start, end), right=right)


def decide_any(*, rights: Iterable[AccessRight], data_type: str, today: dt.date) -> Decision:
    """The widest window any of a PCE's rights gives; else the first right's refusal."""
    best: Decision | None = None
    refusal: Decision | None = None
    for right in rights:
        decision = decide(right=right, data_type=data_type, today=today)
        if decision.allowed:
            assert decision.window is not None
            if best is None or _width(decision) > _width(best):
                best = decision
        elif refusal is None:
            refusal = decision
    if best is not None:
        return best
    return refusal or Decision(False, "aucun droit d'accès n'est déclaré pour ce PCE")


def _width(decision: Decision) -> int:
    assert decision.window is not None
    return (decision.window.end - decision.window.start).days


def check_range(
    *, rights: Iterable[AccessRight], data_type: str, start: dt.date, end: dt.date, today: dt.date
) -> Decision:
    """Whether days ``[start, end)`` of ``data_type`` may be asked for or shown, with why not."""
    decision = decide_any(rights=rights, data_type=data_type, today=today)
    if not decision.allowed or data_type in UNDATED_TYPES:
        return decision
    assert decision.window is not None
    if not decision.window.contains(start, end):
        window = decision.window
        return Decision(
            False,
            "la période demandée sort de la plage autorisée par le consentement "
            f"(du {window.start:%d/%m/%Y} au {window.end - dt.timedelta(days=1):%d/%m/%Y})",
            window=window,
            right=decision.right,
        )
    return decision
