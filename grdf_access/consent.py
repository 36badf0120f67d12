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

from django.utils.translation import gettext as _

from grdf_access.models import AccessRight, DataType, RightState

# Seed 000, "Rappel, droits accès par défaut des Fournisseurs".
DEFAULT_ACCESS: dict[bool, frozenset[str]] = {
    True: frozenset({DataType.PUBLISHED, DataType.CONTRACTUAL, DataType.TECHNICAL}),
    False: frozenset({DataType.TECHNICAL}),
}

# Data that have no date of their own: the window's days do not apply to them.
UNDATED_TYPES = frozenset({DataType.CONTRACTUAL, DataType.TECHNICAL})

# How far back ADICT serves each type (reference grdf-adict.md §1.3 and §1.8: "publiées/
# injections 5 years, informatives 3 years"); RSF hourly data are informative.
HISTORY_YEARS: dict[str, int] = {
    DataType.PUBLISHED: 5,
    DataType.INFORMATIVE_DAILY: 3,
    DataType.INFORMATIVE_HOURLY: 3,
}


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
            False,
            _("le droit d'accès n'est pas actif (état : %(state)s)")
            % {"state": right.get_state_display()},
        )
    if today < right.consent_start:
        return Decision(
            False,
            _("le consentement ne commence que le %(day)s")
            % {"day": format(right.consent_start, "%d/%m/%Y")},
        )
    if today > right.consent_end:
        return Decision(
            False,
            _("le consentement a pris fin le %(day)s")
            % {"day": format(right.consent_end, "%d/%m/%Y")},
        )
    if not right.grants(data_type):
        label = DataType(data_type).label
        return Decision(
            False,
            _("le type de données « %(label)s » n'est pas couvert par le droit") % {"label": label},
        )
    start = right.data_start
    if right.pce.mes_date is not None:
        start = max(start, right.pce.mes_date)
    # The range's last day is included; nothing after today exists yet.
    end = min(right.data_end, today) + dt.timedelta(days=1)
    if start >= end:
        return Decision(False, _("la plage de données autorisée est vide"), right=right)
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
    return refusal or Decision(False, _("aucun droit d'accès n'est déclaré pour ce PCE"))


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
            _(
                "la période demandée sort de la plage autorisée par le consentement "
                "(du %(start)s au %(end)s)"
            )
            % {
                "start": format(window.start, "%d/%m/%Y"),
                "end": format(window.end - dt.timedelta(days=1), "%d/%m/%Y"),
            },
            window=window,
            right=decision.right,
        )
    return decision


def years_back(today: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` earlier (29 February becomes the 28th)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def request_bounds(
    *,
    data_type: str,
    data_start: dt.date,
    data_end: dt.date,
    today: dt.date,
    since: dt.date | None = None,
) -> tuple[dt.date, dt.date] | None:
    """The ``date_debut`` and ``date_fin`` to send to ADICT for a right's data range, or None.

    ADICT's rule for a data call (reference grdf-adict.md §1.3, from the v2 Swagger's parameter
    descriptions): "``date_debut`` < ``date_fin``; ``date_fin`` ≤ today; ``date_debut`` ≥
    today - 5 y (publiées, injections) or - 3 y (informatives)". The right's data range
    (``perim_donnees_conso_debut``/``_fin``, §1.4) bounds the call too: GRDF refuses a call
    whose dates leave it, so ``date_debut`` ≥ the range's start and ``date_fin`` ≤ its end.

    Hence ``date_debut = max(data_start, today - N years, since)`` and
    ``date_fin = min(data_end, today)``, and no call at all when ``date_debut ≥ date_fin``:
    a range starting in the future (or today), or one ending before ADICT's history begins.
    ``since`` is how far back the caller wants to go (look-back, backfill); ``data_start``
    already includes the commissioning date when known.

    The gas days a call returns are ``[date_debut, date_fin)``: the range's very last gas day
    is asked once ``date_fin`` may pass it, i.e. never after a range has ended. Asking for it
    would need ``date_fin`` one day beyond the range, which is the request GRDF refuses.
    """
    start = max(data_start, years_back(today, HISTORY_YEARS[data_type]))
    if since is not None:
        start = max(start, since)
    end = min(data_end, today)
    if start >= end:
        return None
    return start, end
