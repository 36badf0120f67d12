"""Which SAPHIR labels a short (TCT) or long (TLG) frame carries, per profile (02E Tableau 12).

Tableau 12 has four presence columns: Consommateur TCT, Consommateur TLG, Producteur TCT,
Producteur TLG. The text extraction of the PDF dropped the empty cells but kept one space per
cell boundary, so the run of spaces and ``X`` between the unit column and « Précisions » still
tells which cells are filled. Reading every row that way gives four patterns only, and each
agrees with the prose of §2.10.1 (« Contenu des trames »: the long frame is the short frame plus
contractual data, tariff configuration and the P-1 quantities; « Configurations »: the producer
profile adds injection data):

* ``X X X X``: in every frame (e.g. ``EAS kWh X X X X``);
* ``X  X`` (filled, empty, filled, empty shifted by the unit column): long frames only, both
  profiles: ``TD``, ``TC``, ``GRILLE_D``, ``TDYND``, the load-curve points ``DATEPAX``/``PAXS``/
  ``PR±XS``/``UMOYX``, the P-1 quantities (``FINP1``, ``EApxSD1``…), ``KDC``, ``KDCD``,
  ``PSpx``, ``LIB_pxD``, ``GRILLE_F``, ``TDYNF``, ``EApxSF1``, ``LIB_pxF``;
* ``  X X`` (two leading empty cells): producer profile, short and long frames: ``EAI``,
  ``ER±I``, ``I1I``-``I3I``, ``EApxID``, ``ER±pxID``, the 1- and 10-minute powers ``PA1MN``…
  ``IPREATMN``, ``TGPHII``;
* ``   X`` (three empty cells): producer long frames only: ``PAXI``, ``PR±XI``, ``EApxID1``,
  ``ER±pxID1``.

Consequences for a reader: ``PSpx``, ``KDC``/``KDCD`` and the tariff labels ``LIB_pxD`` arrive
only every 1 to 5 minutes (§2.10.1), so the subscribed power must be remembered between long
frames; a consumer meter sends no 1-minute power (``PA1MN`` is producer-only), so its power is
derived from ``EAS`` over Td.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_X = range(1, 7)  # load-curve points 1..6
_P = range(1, 9)  # tariff periods 1..8


def _each(templates: str, values: range) -> frozenset[str]:
    return frozenset(t.format(x=x) for t in templates.split() for x in values)


EVERY_FRAME = frozenset(
    [
        "LG_TRM",
        "ADS",
        "DATE",
        "MESSAGE",
        "EAS",
        "ER+S",
        "ER-S",
        "PTCOURD",
        "PREAVIS",
        "PREAVISD",
        "ETATDYND",
        "MODE",
        "TGPHIS",
        "U10MN",
        "PTCOURF",
        "PREAVISF",
        "ETATDYNF",
    ]
) | _each("EAp{x}SD ER+p{x}SD ER-p{x}SD EAp{x}SF", _P)

LONG_ONLY = (
    frozenset(["TD", "TC", "GRILLE_D", "TDYND", "FINP1", "KDC", "KDCD", "GRILLE_F", "TDYNF"])
    | _each("DATEPA{x} PA{x}S PR+{x}S PR-{x}S UMOY{x}", _X)
    | _each("EAp{x}SD1 ER+p{x}SD1 ER-p{x}SD1 PSp{x} LIB_p{x}D EAp{x}SF1 LIB_p{x}F", _P)
)

PRODUCER = frozenset(
    [
        "EAI",
        "ER+I",
        "ER-I",
        "I1I",
        "I2I",
        "I3I",
        "PA1MN",
        "PA10MN",
        "PREA1MN",
        "PREA10MN",
        "IPA1MN",
        "IPATMN",
        "IPREA1MN",
        "IPREATMN",
        "TGPHII",
    ]
) | _each("EAp{x}ID ER+p{x}ID ER-p{x}ID", _P)

PRODUCER_LONG_ONLY = _each("PA{x}I PR+{x}I PR-{x}I", _X) | _each(
    "EAp{x}ID1 ER+p{x}ID1 ER-p{x}ID1", _P
)

SHORT = "TRM_COURTE"
LONG = "TRM_LONGUE"


@dataclass(frozen=True, slots=True)
class Layout:
    """What a SAPHIR frame is, from its labels: ``long`` (TLG), ``producer`` (``EAI`` present,
    02E §2.10.1) and the labels that Tableau 12 does not allow in such a frame."""

    long: bool
    producer: bool
    unexpected: tuple[str, ...]


def allowed(*, long: bool, producer: bool) -> frozenset[str]:
    labels = EVERY_FRAME
    if long:
        labels |= LONG_ONLY
    if producer:
        labels |= PRODUCER | (PRODUCER_LONG_ONLY if long else frozenset())
    return labels


def layout(labels: Iterable[str], frame_kind: object = None) -> Layout:
    """Classify a SAPHIR frame; ``frame_kind`` is its ``LG_TRM`` value, if it carried one."""
    present = list(labels)
    long = frame_kind == LONG
    producer = "EAI" in present
    permitted = allowed(long=long, producer=producer)
    return Layout(long, producer, tuple(label for label in present if label not in permitted))


_PERIOD_LABEL = re.compile(r"^LIB_p([1-8])D$")


def period_number(period: str, labels: dict[str, object]) -> int | None:
    """The number x of the distributor period named ``period`` (``LIB_pxD``), to find ``PSpx``."""
    for label, value in labels.items():
        match = _PERIOD_LABEL.match(label)
        if match and isinstance(value, str) and value.strip() == period.strip():
            return int(match.group(1))
    return None
