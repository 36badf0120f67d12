"""An in-process fake of GRDF ADICT v2 (+ provisional RSF), mounted under ``/sim/grdf/``.

Faithful to GRDF's published ADICT v2 documentation (see ``grdf_access.client``): OAuth2 token
endpoint, access-right declaration and life cycle, consent enforcement answering like GRDF (HTTP 200
+ ``statut_restitution``), deterministic consumption data with the real shapes (``generator``), the
sandbox PCE scenarios of ref §1.9 (``sandbox``), proof limits. Its state lives in Django's cache
(``state``), so every web process and the test process agree; nothing is stored in the database.

Hooks for tests and the portal demo (each also has an HTTP twin under ``/sim/grdf/_sim/``):

* :func:`reset`, :func:`counters` — every data request and every one outside consent is
  counted, by reason;
* :func:`set_now` / :func:`now` — the simulator's clock (expiry of unanswered requests);
* :func:`validate_right`, :func:`refuse_right`, :func:`revoke_by_holder`, :func:`make_obsolete`,
  :func:`request_proofs`, :func:`settle_proofs`, :func:`get_right`;
* :func:`set_throttle` (429 + ``Retry-After``), :func:`set_fault` (retryable error, pretty
  printing, broken line for one PCE);
* :func:`secret_for` (the client secret of any client id), :func:`seed_rights` (many Active
  rights at once, for benchmarks and demos).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from grdf_access.simulator import rights, state
from grdf_access.simulator.rights import (
    MISMATCH_POSTCODE,
    UNKNOWN_PCES,
    VALIDATION_DELAY,
    RuleError,
)
from grdf_access.simulator.sandbox import SCENARIOS
from grdf_access.simulator.views import MALFORMED, PRETTY, RETRYABLE, secret_for, token_for

__all__ = [
    "MALFORMED",
    "MISMATCH_POSTCODE",
    "PRETTY",
    "RETRYABLE",
    "SCENARIOS",
    "UNKNOWN_PCES",
    "VALIDATION_DELAY",
    "RuleError",
    "counters",
    "get_right",
    "make_obsolete",
    "now",
    "refuse_right",
    "request_proofs",
    "reset",
    "revoke_by_holder",
    "secret_for",
    "seed_rights",
    "set_fault",
    "set_now",
    "set_throttle",
    "settle_proofs",
    "token_for",
    "validate_right",
]

reset = state.reset
counters = state.counters
set_now = state.set_now
now = state.now


def _at(when: dt.datetime | None) -> dt.datetime:
    return when if when is not None else state.now()


def validate_right(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The holder accepts: "A valider" → "Active". ``RuleError`` (409) once it expired."""
    return rights.public(rights.validate(right_id, now=_at(now)))


def refuse_right(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    return rights.public(rights.refuse(right_id, now=_at(now)))


def revoke_by_holder(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    return rights.public(rights.revoke_by_holder(right_id, now=_at(now)))


def make_obsolete(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    return rights.public(rights.make_obsolete(right_id, now=_at(now)))


def request_proofs(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """GRDF opens a security control on the right ("Preuve en attente", 15-day deadline)."""
    return rights.public(rights.request_proofs(right_id, now=_at(now)))


def settle_proofs(right_id: str, *, accepted: bool) -> dict[str, Any]:
    return rights.public(rights.settle_proofs(right_id, accepted=accepted))


def get_right(right_id: str, *, now: dt.datetime | None = None) -> dict[str, Any] | None:
    """The stored right as GRDF would show it at ``now``, with ``_proofs`` (uploads) kept."""
    stored = state.get(f"right:{right_id}")
    return None if stored is None else rights.effective(stored, _at(now))


def set_throttle(*, count: int, retry_after: int = 1) -> None:
    """The next ``count`` API calls (any credential) answer 429 with ``Retry-After``."""
    state.put("throttle", {"remaining": count, "retry_after": retry_after})


def set_fault(pce: str, kind: str | None, *, times: int = 1) -> None:
    """``RETRYABLE`` (``times`` calls), ``PRETTY`` or ``MALFORMED`` answers for ``pce``."""
    if kind is None:
        state.delete(f"fault:{pce}")
    else:
        state.put(f"fault:{pce}", {"kind": kind, "remaining": times})


def seed_rights(
    *,
    client_id: str,
    pces: Iterable[str],
    data_start: dt.date,
    data_end: dt.date,
    consent_start: dt.date,
    consent_end: dt.date,
    types: Iterable[str] = ("publiees", "informatives", "contractuelles", "techniques"),
    role: str = "AUTORISE_CONTRAT_FOURNITURE",
    state_label: str = "Active",
    created: dt.datetime | None = None,
) -> list[str]:
    """Store many rights at once (as if declared and validated); returns their ids."""
    created = _at(created)
    granted = set(types)
    window = "inj" if "INJECTION" in role else "conso"
    stored: dict[str, Any] = {}
    ids = []
    for pce in pces:
        rights.check_pce(pce)
        right_id = str(uuid.uuid4())
        right: dict[str, Any] = {
            "id_droit_acces": right_id,
            "id_pce": pce,
            "role_tiers": role,
            "raison_sociale_du_tiers": client_id,
            "nom_titulaire": None,
            "raison_sociale_du_titulaire": "Titulaire simulé",
            "courriel_titulaire": None,
            "numero_telephone_mobile_titulaire": None,
            "code_postal": "75011",
            "date_debut_droit_acces": consent_start.isoformat(),
            "date_fin_droit_acces": consent_end.isoformat(),
            f"perim_donnees_{window}_debut": data_start.isoformat(),
            f"perim_donnees_{window}_fin": data_end.isoformat(),
            **{f"perim_donnees_{t}": "Vrai" if t in granted else "Faux" for t in rights.TYPES},
            "date_creation": rights.local_text(created),
            "etat_droit_acces": state_label,
            "parcours": "TIERS_DIRECT",
            "statut_controle_preuve": None,
            "date_limite_transmission_preuve": None,
            "_client": client_id,
            "_deadline": None,
            "_proofs": [],
        }
        stored[f"right:{right_id}"] = right
        stored[f"pce:{client_id}:{pce}"] = [right_id]
        ids.append(right_id)
    state.put_many(stored)
    for right_id in ids:
        state.append(f"rights:{client_id}", right_id)
    return ids
