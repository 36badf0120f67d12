"""The wire vocabulary of ADICT: enumerations, spelling normalisation, scalar readers."""

from __future__ import annotations

import datetime as dt
import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import Any

from hub.clock import PARIS

PROVIDER = "grdf"

# Proof upload limits (ref §1.3 "au maximum 3 preuves de 4Mo").
MAX_PROOF_FILES = 3
MAX_PROOF_BYTES = 4 * 1024 * 1024

# PCEs one POST /droits_acces may name (PO2's code 2000000009, ref §1.4).
MAX_PCES_PER_CALL = 1000

# Processing codes meaning success ("0000000002": declared, waiting for the holder).
SUCCESS_CODES = frozenset({"0000000000", "0000000001", "0000000002"})


# --------------------------------------------------------------------------------------------
# Enumerations and normalisation
# --------------------------------------------------------------------------------------------


class RightState(StrEnum):
    """``etat_droit_acces`` in GRDF's spelling (ref §1.6); RSF adds ``Résiliée`` (provisional)."""

    ACTIVE = "Active"
    TO_VALIDATE = "A valider"
    TO_RECHECK = "A revérifier"
    REFUSED = "Refusée"
    REVOKED = "Révoquée"
    OBSOLETE = "Obsolète"
    TERMINATED = "Résiliée"


class ProofStatus(StrEnum):
    """``statut_controle_preuve`` (ref §1.6)."""

    PENDING = "Preuve en attente"
    CHECKING = "Preuve en cours de vérification"
    OK = "Preuve Vérifiée OK"
    KO = "Preuve Vérifiée KO"


class Role(StrEnum):
    """``role_tiers`` (ref §1.4)."""

    AUTHORISED_SUPPLY = "AUTORISE_CONTRAT_FOURNITURE"
    HOLDER_SUPPLY = "DETENTEUR_CONTRAT_FOURNITURE"
    AUTHORISED_INJECTION = "AUTORISE_CONTRAT_INJECTION"
    HOLDER_INJECTION = "DETENTEUR_CONTRAT_INJECTION"

    @property
    def is_injection(self) -> bool:
        return self in (Role.AUTHORISED_INJECTION, Role.HOLDER_INJECTION)


class DataType(StrEnum):
    """The data types a right grants; the value is the wire suffix of ``perim_donnees_*``.

    ``INFORMATIVE_HOURLY`` is RSF's "Informatives Horaires" (provisional wire name).
    """

    PUBLISHED = "publiees"
    INFORMATIVE = "informatives"
    INFORMATIVE_HOURLY = "informatives_horaires"
    CONTRACTUAL = "contractuelles"
    TECHNICAL = "techniques"


# Scopes ADICT v2 does not define (ref §1.4 lists four "perim_donnees_*" flags).
RSF_ONLY_TYPES = frozenset({DataType.INFORMATIVE_HOURLY})


class SubscriptionKind(StrEnum):
    """RSF subscriptions (seed 000: "WS abonnement (TJDC & PPH)"); provisional."""

    TJDC = "TJDC"
    PPH = "PPH"


@lru_cache(maxsize=1024)
def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: "À  valider" and "a valider" compare equal."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


# Folded spellings seen in the wild, masculine forms included (ref §1.6: "Actif", "Révoqué").
_STATES: dict[str, RightState] = {
    "active": RightState.ACTIVE,
    "actif": RightState.ACTIVE,
    "a valider": RightState.TO_VALIDATE,
    "en attente de validation": RightState.TO_VALIDATE,
    "a reverifier": RightState.TO_RECHECK,
    "refusee": RightState.REFUSED,
    "refuse": RightState.REFUSED,
    "revoquee": RightState.REVOKED,
    "revoque": RightState.REVOKED,
    "obsolete": RightState.OBSOLETE,
    "resiliee": RightState.TERMINATED,
    "resilie": RightState.TERMINATED,
}
_PROOF_STATUSES: dict[str, ProofStatus] = {_fold(s.value): s for s in ProofStatus}


def normalise_state(text: str) -> RightState:
    """GRDF's state in any accent/case spelling; raises ``ValueError`` for an unknown one."""
    try:
        return _STATES[_fold(text)]
    except KeyError:
        raise ValueError(f"unknown access-right state {text!r}") from None


def normalise_proof_status(text: str | None) -> ProofStatus | None:
    """``statut_controle_preuve`` in any accent/case spelling; ``None`` when absent."""
    if text is None or not str(text).strip():
        return None
    try:
        return _PROOF_STATUSES[_fold(str(text))]
    except KeyError:
        raise ValueError(f"unknown proof status {text!r}") from None


_TRUE = frozenset({"vrai", "true", "oui", "1", "yes"})
_FALSE = frozenset({"faux", "false", "non", "0", "no"})


def parse_bool(value: Any) -> bool | None:
    """ "Vrai"/"Faux" (any case), "Oui"/"Non", JSON booleans; ``None`` when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    folded = _fold(str(value))
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def wire_bool(value: bool) -> str:
    return "Vrai" if value else "Faux"


# -- scalar readers --------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        return None


def _date(value: Any) -> dt.date | None:
    """ "YYYY-MM-DD", optionally followed by a time (which is dropped)."""
    if not value:
        return None
    text = str(value)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _instant(value: Any) -> dt.datetime | None:
    """ISO 8601 with offset, or GRDF's naive local "YYYY-MM-DD HH:MM:SS" (Paris), in UTC."""
    if not value:
        return None
    text = str(value)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=PARIS)
    return parsed.astimezone(dt.UTC)


def _safe_bool(value: Any) -> bool | None:
    try:
        return parse_bool(value)
    except ValueError:
        return None
