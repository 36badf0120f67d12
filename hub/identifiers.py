"""Metering-point identifiers of the French market, checked in one place.

Formats: GRDF ADICT ``id_pce`` pattern ``^GI\\d{6}$|^\\d{14}$``; Enedis PRM (point de
référence mesure) 14 digits; TIC meter addresses ADCO/ADSC (12 digits, Enedis-NOI-CPT_02E and
_54E) and ADS (12 characters ``CCAATTNNNNNN``, PME-PMI / SAPHIR); EDF OA contract references are
free alphanumeric codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PCE_PATTERN = r"^(GI[0-9]{6}|[0-9]{14})$"
PRM_PATTERN = r"^[0-9]{14}$"
TIC_METER_PATTERN = r"^[0-9A-Z]{12}$"
OA_CONTRACT_PATTERN = r"^[0-9A-Za-z][0-9A-Za-z_./-]{2,39}$"

PATTERNS = {
    "gas_pce": (PCE_PATTERN, _("un PCE fait 14 chiffres ou « GI » suivi de 6 chiffres")),
    "elec_prm": (PRM_PATTERN, _("un PRM fait 14 chiffres")),
    "tic_meter": (
        TIC_METER_PATTERN,
        _("une adresse de compteur TIC fait 12 caractères (ADCO/ADSC/ADS)"),
    ),
    "oa_site": (
        OA_CONTRACT_PATTERN,
        _("une référence de contrat OA fait 3 à 40 lettres, chiffres ou « _ . / - »"),
    ),
}


@dataclass(frozen=True)
class InvalidIdentifier(ValueError):
    kind: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"{self.value!r} : {self.reason}"


def normalise(kind: str, value: str) -> str:
    """Return the identifier stripped of spaces and upper-cased, or raise InvalidIdentifier."""
    try:
        pattern, reason = PATTERNS[kind]
    except KeyError:
        raise InvalidIdentifier(
            kind, value, gettext("type de point de comptage inconnu : %(kind)s") % {"kind": kind}
        ) from None
    cleaned = re.sub(r"\s+", "", value or "")
    if kind != "oa_site":
        cleaned = cleaned.upper()
    if not re.fullmatch(pattern, cleaned):
        raise InvalidIdentifier(kind, value, str(reason))  # in the caller's language
    return cleaned
