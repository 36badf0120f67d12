"""Access rights in the simulator: declaration rules, state changes and consent checks.

A right is stored as GRDF returns it (ref §1.5 ``liste_acces_out``) plus private ``_``-prefixed
fields. State changes follow ref §1.6:

* a third party (AUTORISE_*) declaring through the API (TIERS_DIRECT) waits "A valider" until
  the holder validates (→ "Active", :func:`validate`), or is "Refusée" once
  :data:`VALIDATION_DELAY` has passed without an answer (a TIERS_DIRECT request of 2021-07-05
  19:55 was auto-refused on 2021-07-09 02:54 in a real answer, ref §1.6). The refusal is
  computed when the right is read, against the simulator's clock, so no timer is needed;
* a contract holder (DETENTEUR_*) needs no validation: "Active" at once;
* the third party revokes (``PATCH``) → "Révoquée" (source "Tiers"); the holder may too
  (:func:`revoke_by_holder`, source "Titulaire");
* RSF (provisional): modification and termination ("Résiliée").

Consent (:func:`check_consent`): a data request is inside consent when one of the caller's
rights on the PCE is Active, grants the data type, "now" lies within its consent dates, and the
asked gas days lie within its data range, itself ended by the end of consent (seed 000: "plage
des données, bornée par la date de MES et la date de fin de consentement").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from dataclasses import dataclass
from typing import Any

from grdf_access.simulator import sandbox, state
from hub.clock import PARIS

VALIDATION_DELAY = dt.timedelta(days=3)
PROOF_DELAY = dt.timedelta(days=15)
MAX_PROOF_FILES = 3
MAX_PROOF_BYTES = 4 * 1024 * 1024
PROOF_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})
PCE_PATTERN = re.compile(r"^(GI\d{6}|\d{14})$")
POSTCODE_PATTERN = re.compile(r"^\d{5}$")
# A postcode the simulator treats as not matching any PCE's address (409).
MISMATCH_POSTCODE = "00000"
# PCEs GRDF does not know (404).
UNKNOWN_PCES = frozenset({"00000000000000", "GI000000"})

ROLES = (
    "AUTORISE_CONTRAT_FOURNITURE",
    "DETENTEUR_CONTRAT_FOURNITURE",
    "AUTORISE_CONTRAT_INJECTION",
    "DETENTEUR_CONTRAT_INJECTION",
)
TYPES = ("publiees", "informatives", "informatives_horaires", "contractuelles", "techniques")
LIVE_STATES = ("Active", "A valider")
REFUSAL_SOURCE = "La durée de validité de la demande d'accréditation est dépassée."


class RuleError(Exception):
    """A refusal, with the HTTP status, GRDF code and message to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def fold(text: str) -> str:
    """Lower case, no accents, single spaces (GRDF's states come in several spellings)."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


def _bool(value: Any, field: str) -> bool:
    if value is None:
        return False
    folded = fold(str(value))
    if folded in ("vrai", "true"):
        return True
    if folded in ("faux", "false"):
        return False
    raise RuleError(400, "1000000000", f"Le champ {field} doit valoir Vrai ou Faux.")


def parse_date(value: Any, field: str, *, required: bool = False) -> dt.date | None:
    if value in (None, ""):
        if required:
            raise RuleError(400, "1000000000", f"Le champ {field} est obligatoire.")
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise RuleError(400, "1000000000", f"Le champ {field} n'est pas une date.") from None


def local_text(instant: dt.datetime) -> str:
    """GRDF's "YYYY-MM-DD HH:MM:SS" in Paris time."""
    return instant.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")


def today_of(now: dt.datetime) -> dt.date:
    return now.astimezone(PARIS).date()


# -- storage ---------------------------------------------------------------------------------


def load(right_id: str, *, client_id: str) -> dict[str, Any] | None:
    """The caller's right (stored or sandbox); ``None`` if it does not exist or is another's."""
    right = state.get(f"right:{right_id}")
    if right is None:
        for item in sandbox.SCENARIOS.values():
            if item.right_id == right_id:
                right = sandbox.right_of(item, client_id=client_id)
        return right
    return right if right["_client"] == client_id else None


def save(right: dict[str, Any]) -> None:
    if right.get("_sandbox"):
        raise RuleError(409, "2000000003", "Le droit d'accès du jeu de données ne peut changer.")
    state.put(f"right:{right['id_droit_acces']}", right)


def rights_of(client_id: str) -> list[dict[str, Any]]:
    ids = state.items(f"rights:{client_id}")
    found = state.get_many(f"right:{i}" for i in ids)
    return [found[f"right:{i}"] for i in ids if f"right:{i}" in found]


def rights_on(
    client_id: str, pce: str, *, right_ids: list[str] | None = None
) -> list[dict[str, Any]]:
    """The caller's rights on one PCE (its stored ones, else the sandbox one).

    ``right_ids``: the PCE's index when the caller already read it.
    """
    ids = right_ids if right_ids is not None else (state.get(f"pce:{client_id}:{pce}") or [])
    if ids:
        found = state.get_many(f"right:{i}" for i in ids)
        return [found[f"right:{i}"] for i in ids if f"right:{i}" in found]
    item = sandbox.scenario(pce)
    right = sandbox.right_of(item, client_id=client_id) if item else None
    return [right] if right else []


def _index(right: dict[str, Any]) -> None:
    client_id, pce = right["_client"], right["id_pce"]
    ids = state.get(f"pce:{client_id}:{pce}") or []
    state.put(f"pce:{client_id}:{pce}", [*ids, right["id_droit_acces"]])
    state.append(f"rights:{client_id}", right["id_droit_acces"])


def effective(right: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The right as seen at ``now``: an unanswered request past its delay is "Refusée"."""
    if right["etat_droit_acces"] == "A valider" and right.get("_deadline"):
        deadline = dt.datetime.fromisoformat(right["_deadline"])
        if now >= deadline:
            right = {
                **right,
                "etat_droit_acces": "Refusée",
                "date_passage_a_refuse": local_text(deadline),
                "source_passage_a_refuse": REFUSAL_SOURCE,
            }
    return right


def public(right: dict[str, Any]) -> dict[str, Any]:
    """The right without the simulator's private fields."""
    return {k: v for k, v in right.items() if not k.startswith("_")}


# -- declaration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    right: dict[str, Any]
    code: str
    message: str


def check_pce(pce: str) -> None:
    if not PCE_PATTERN.match(pce):
        raise RuleError(400, "1000000000", "L'identifiant du PCE n'est pas correctement formaté.")
    if pce in UNKNOWN_PCES:
        raise RuleError(404, "1000000006", "Le PCE est inconnu.")


def _windows(
    body: dict[str, Any], role: str, consent_end: dt.date, today: dt.date
) -> dict[str, Any]:
    injection = "INJECTION" in role
    window, other = ("inj", "conso") if injection else ("conso", "inj")
    start = parse_date(body.get(f"perim_donnees_{window}_debut"), f"perim_donnees_{window}_debut")
    end = parse_date(body.get(f"perim_donnees_{window}_fin"), f"perim_donnees_{window}_fin")
    if start is None or end is None:
        raise RuleError(
            400, "1000000000", f"Les champs perim_donnees_{window}_debut et _fin sont obligatoires."
        )
    if body.get(f"perim_donnees_{other}_debut") or body.get(f"perim_donnees_{other}_fin"):
        raise RuleError(409, "1000000022", "La demande d'accès est incohérente.")
    if start > today:
        raise RuleError(
            400, "1000000000", f"perim_donnees_{window}_debut doit être antérieure à ce jour."
        )
    if end < start:
        raise RuleError(400, "1000000000", f"perim_donnees_{window}_fin précède le début.")
    if end > consent_end:
        raise RuleError(
            400, "1000000000", f"perim_donnees_{window}_fin dépasse date_fin_droit_acces."
        )
    return {
        f"perim_donnees_{window}_debut": start.isoformat(),
        f"perim_donnees_{window}_fin": end.isoformat(),
    }


def declare(*, client_id: str, pce: str, body: dict[str, Any], now: dt.datetime) -> Declared:
    """``PUT /pce/{id}/droit_acces`` (ref §1.4, §1.7)."""
    check_pce(pce)
    today = today_of(now)
    role = body.get("role_tiers")
    if role not in ROLES:
        raise RuleError(400, "1000000000", "Le champ role_tiers est invalide.")
    postcode = str(body.get("code_postal") or "")
    if not POSTCODE_PATTERN.match(postcode):
        raise RuleError(400, "1000000000", "Le champ code_postal est invalide.")
    if bool(body.get("nom_titulaire")) == bool(body.get("raison_sociale")):
        raise RuleError(
            400, "1000000000", "Seul le nom ou la raison sociale du titulaire doit être renseigné."
        )
    consent_start = parse_date(
        body.get("date_debut_droit_acces"), "date_debut_droit_acces", required=True
    )
    consent_end = parse_date(
        body.get("date_fin_droit_acces"), "date_fin_droit_acces", required=True
    )
    assert consent_start is not None and consent_end is not None
    if consent_start > today:
        raise RuleError(400, "1000000000", "date_debut_droit_acces doit être antérieure à ce jour.")
    if consent_end < today:
        raise RuleError(400, "1000000000", "date_fin_droit_acces doit être postérieure à ce jour.")
    windows = _windows(body, role, consent_end, today)
    scopes = {
        f"perim_donnees_{t}": "Vrai" if _bool(body.get(f"perim_donnees_{t}"), t) else "Faux"
        for t in TYPES
    }
    item = sandbox.scenario(pce)
    if item is not None and item.fault in (sandbox.CONTRACT_EXPIRED, sandbox.OUT_OF_SERVICE):
        raise RuleError(409, "1000000004", "Le contrat de fourniture de gaz est échu.")
    if postcode == MISMATCH_POSTCODE:
        raise RuleError(409, "1000000005", "Le code postal ne correspond pas à l'adresse du PCE.")
    for existing in rights_on(client_id, pce):
        current = effective(existing, now)
        if current["role_tiers"] == role and current["etat_droit_acces"] in LIVE_STATES:
            if current["etat_droit_acces"] == "A valider":
                raise RuleError(
                    409,
                    "1000000003",
                    "La demande d'accès est en attente de la validation du titulaire du PCE.",
                )
            raise RuleError(409, "1000000003", "Un droit d'accès existe déjà.")
    authorised = role.startswith("AUTORISE")
    right: dict[str, Any] = {
        "id_droit_acces": str(uuid.uuid4()),
        "id_pce": pce,
        "role_tiers": role,
        "raison_sociale_du_tiers": client_id,
        "nom_titulaire": body.get("nom_titulaire") or None,
        "raison_sociale_du_titulaire": body.get("raison_sociale") or None,
        "courriel_titulaire": body.get("courriel_titulaire") or None,
        "numero_telephone_mobile_titulaire": body.get("numero_telephone_mobile_titulaire") or None,
        "code_postal": postcode,
        "date_debut_droit_acces": consent_start.isoformat(),
        "date_fin_droit_acces": consent_end.isoformat(),
        **windows,
        **scopes,
        "date_creation": local_text(now),
        "etat_droit_acces": "A valider" if authorised else "Active",
        "parcours": "TIERS_DIRECT",
        "statut_controle_preuve": None,
        "date_limite_transmission_preuve": None,
        "date_revocation": None,
        "source_revocation": None,
        "date_passage_a_obsolete": None,
        "source_passage_a_obsolete": None,
        "date_passage_a_refuse": None,
        "source_passage_a_refuse": None,
        "_client": client_id,
        "_deadline": (now + VALIDATION_DELAY).isoformat() if authorised else None,
        "_proofs": [],
    }
    state.put(f"right:{right['id_droit_acces']}", right)
    _index(right)
    state.bump("declarations")
    if authorised:
        return Declared(
            right,
            "0000000002",
            "La demande d'accès est en attente de la validation du titulaire du PCE.",
        )
    return Declared(right, "0000000000", "L'opération s'est déroulée avec succès.")


# -- state changes ---------------------------------------------------------------------------


def _owned(right_id: str, client_id: str | None) -> dict[str, Any]:
    right = state.get(f"right:{right_id}")
    if right is None or (client_id is not None and right["_client"] != client_id):
        raise RuleError(404, "1000000001", "Aucun droit d'accès trouvé.")
    return right


def validate(right_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """The holder accepts a TIERS_DIRECT request: "A valider" → "Active" (before its delay)."""
    right = effective(_owned(right_id, None), now)
    if right["etat_droit_acces"] != "A valider":
        raise RuleError(409, "2000000003", f"Le droit d'accès est {right['etat_droit_acces']}.")
    right = {**right, "etat_droit_acces": "Active", "_deadline": None}
    save(right)
    return right


def refuse(right_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """The holder declines a TIERS_DIRECT request: "A valider" → "Refusée"."""
    right = effective(_owned(right_id, None), now)
    if right["etat_droit_acces"] != "A valider":
        raise RuleError(409, "2000000003", f"Le droit d'accès est {right['etat_droit_acces']}.")
    right = {
        **right,
        "etat_droit_acces": "Refusée",
        "date_passage_a_refuse": local_text(now),
        "source_passage_a_refuse": "Le titulaire a refusé la demande d'accès.",
        "_deadline": None,
    }
    save(right)
    return right


def _revoke(right: dict[str, Any], *, source: str, now: dt.datetime) -> dict[str, Any]:
    if right["etat_droit_acces"] not in LIVE_STATES:
        raise RuleError(409, "2000000003", f"Le droit d'accès est {right['etat_droit_acces']}.")
    right = {
        **right,
        "etat_droit_acces": "Révoquée",
        "date_revocation": local_text(now),
        "source_revocation": source,
        "_deadline": None,
    }
    save(right)
    return right


def revoke(right_id: str, *, client_id: str, now: dt.datetime) -> dict[str, Any]:
    """``PATCH /droit_acces/{id}``: the AUTORISE third party revokes its right."""
    right = effective(_owned(right_id, client_id), now)
    if not right["role_tiers"].startswith("AUTORISE"):
        raise RuleError(409, "2000000003", "Seul un tiers autorisé peut révoquer ce droit d'accès.")
    return _revoke(right, source="Tiers", now=now)


def revoke_by_holder(right_id: str, *, now: dt.datetime) -> dict[str, Any]:
    return _revoke(effective(_owned(right_id, None), now), source="Titulaire", now=now)


def make_obsolete(
    right_id: str, *, now: dt.datetime, source: str = "Changement de titulaire"
) -> dict[str, Any]:
    """GRDF closes a right after a move-out or supplier change: "Obsolète"."""
    right = effective(_owned(right_id, None), now)
    right = {
        **right,
        "etat_droit_acces": "Obsolète",
        "date_passage_a_obsolete": local_text(now),
        "source_passage_a_obsolete": source,
        "_deadline": None,
    }
    save(right)
    return right


def terminate(right_id: str, *, client_id: str, now: dt.datetime) -> dict[str, Any]:
    """RSF "Résiliation" (provisional): a live right → "Résiliée"."""
    right = effective(_owned(right_id, client_id), now)
    if right["etat_droit_acces"] not in LIVE_STATES:
        raise RuleError(409, "2000000003", f"Le droit d'accès est {right['etat_droit_acces']}.")
    right = {
        **right,
        "etat_droit_acces": "Résiliée",
        "date_resiliation": local_text(now),
        "_deadline": None,
    }
    save(right)
    return right


def modify(
    right_id: str, *, client_id: str, body: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """RSF "Modification" (provisional): change consent end, data range or types.

    Widening a third party's right (a new type, an earlier start, a later end) needs the holder
    again: the right goes back to "A valider" with a fresh delay. Narrowing keeps its state.
    """
    right = effective(_owned(right_id, client_id), now)
    if right["etat_droit_acces"] not in LIVE_STATES:
        raise RuleError(409, "2000000003", f"Le droit d'accès est {right['etat_droit_acces']}.")
    today = today_of(now)
    updated = dict(right)
    consent_end = parse_date(body.get("date_fin_droit_acces"), "date_fin_droit_acces")
    if consent_end is not None:
        if consent_end < today:
            raise RuleError(
                400, "1000000000", "date_fin_droit_acces doit être postérieure à ce jour."
            )
        updated["date_fin_droit_acces"] = consent_end.isoformat()
    window = "inj" if "INJECTION" in right["role_tiers"] else "conso"
    for end in ("debut", "fin"):
        name = f"perim_donnees_{window}_{end}"
        value = parse_date(body.get(name), name)
        if value is not None:
            updated[name] = value.isoformat()
    if updated[f"perim_donnees_{window}_fin"] > updated["date_fin_droit_acces"]:
        raise RuleError(
            400, "1000000000", f"perim_donnees_{window}_fin dépasse date_fin_droit_acces."
        )
    if updated[f"perim_donnees_{window}_fin"] < updated[f"perim_donnees_{window}_debut"]:
        raise RuleError(400, "1000000000", f"perim_donnees_{window}_fin précède le début.")
    for name in TYPES:
        if f"perim_donnees_{name}" in body:
            updated[f"perim_donnees_{name}"] = (
                "Vrai" if _bool(body[f"perim_donnees_{name}"], name) else "Faux"
            )
    widened = (
        any(
            updated.get(f"perim_donnees_{t}") == "Vrai"
            and right.get(f"perim_donnees_{t}") != "Vrai"
            for t in TYPES
        )
        or updated[f"perim_donnees_{window}_debut"] < right[f"perim_donnees_{window}_debut"]
        or updated[f"perim_donnees_{window}_fin"] > right[f"perim_donnees_{window}_fin"]
        or updated["date_fin_droit_acces"] > right["date_fin_droit_acces"]
    )
    if widened and right["role_tiers"].startswith("AUTORISE"):
        updated["etat_droit_acces"] = "A valider"
        updated["_deadline"] = (now + VALIDATION_DELAY).isoformat()
    updated["date_modification"] = local_text(now)
    save(updated)
    return updated


# -- proofs ----------------------------------------------------------------------------------


def request_proofs(right_id: str, *, now: dt.datetime) -> dict[str, Any]:
    """GRDF starts a security control: "Preuve en attente" with a deadline."""
    right = _owned(right_id, None)
    right = {
        **right,
        "statut_controle_preuve": "Preuve en attente",
        "date_limite_transmission_preuve": today_of(now + PROOF_DELAY).isoformat(),
    }
    save(right)
    return right


def settle_proofs(right_id: str, *, accepted: bool) -> dict[str, Any]:
    """GRDF's verdict on uploaded proofs: "Preuve Vérifiée OK" or "KO"."""
    right = _owned(right_id, None)
    status = "Preuve Vérifiée OK" if accepted else "Preuve Vérifiée KO"
    right = {**right, "statut_controle_preuve": status}
    save(right)
    return right


def upload_proofs(
    right_id: str, *, client_id: str, files: list[tuple[str, str, int]], now: dt.datetime
) -> dict[str, Any]:
    """``PUT /droit_acces/{id}/preuves``: ``files`` are (name, content type, size)."""
    right = _owned(right_id, client_id)
    if right.get("statut_controle_preuve") != "Preuve en attente":
        raise RuleError(409, "2000000003", "GRDF ne demande pas de preuve sur ce droit d'accès.")
    if not files:
        raise RuleError(400, "1000000000", "Au moins une preuve est attendue (champ preuves).")
    if len(files) > MAX_PROOF_FILES:
        raise RuleError(400, "1000000000", "Vous pouvez transmettre au maximum 3 preuves de 4Mo.")
    for name, content_type, size in files:
        if size > MAX_PROOF_BYTES:
            raise RuleError(400, "1000000000", f"La preuve {name} dépasse 4Mo.")
        if content_type not in PROOF_TYPES:
            raise RuleError(400, "1000000000", f"Le format de la preuve {name} n'est pas autorisé.")
    uploads = [
        {"nom": name, "type": content_type, "taille": size, "date": local_text(now)}
        for name, content_type, size in files
    ]
    right = {
        **right,
        "statut_controle_preuve": "Preuve en cours de vérification",
        "_proofs": [*right.get("_proofs", []), *uploads],
    }
    save(right)
    state.bump("proof_uploads")
    return right


# -- consent ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    reason: str  # one of state.REASONS
    code: str
    message: str


_REFUSALS = {
    "no_right": ("1000002", "Vous n'êtes pas autorisé à accéder aux données de ce PCE."),
    "not_active": ("1000002", "Vous n'êtes pas autorisé : le droit d'accès n'est pas actif."),
    "revoked_by_holder": (
        "1000014",
        "Vous n'êtes pas autorisé : le titulaire a révoqué le droit d'accès.",
    ),
    "expired": ("1000001", "Vous n'êtes pas autorisé : le droit d'accès est expiré."),
    "type_not_granted": (
        "1000009",
        "Le périmètre de votre droit d'accès ne couvre pas les données {label}.",
    ),
    "outside_data_range": (
        "1000015",
        "Le périmètre de données de votre droit d'accès ne couvre pas la période demandée.",
    ),
}
_LABELS = {
    "publiees": "publiées",
    "informatives": "informatives",
    "informatives_horaires": "informatives horaires",
    "contractuelles": "contractuelles",
    "techniques": "techniques",
}


def _refusal(kind: str, reason: str, data_type: str) -> Refusal:
    code, message = _REFUSALS[kind]
    if data_type == "informatives" and kind == "type_not_granted":
        code = "1000010"
    return Refusal(reason, code, message.format(label=_LABELS.get(data_type, data_type)))


def check_consent(
    *,
    client_id: str,
    pce: str,
    data_type: str,
    first: dt.date | None,
    last: dt.date | None,
    now: dt.datetime,
    right_ids: list[str] | None = None,
) -> Refusal | None:
    """``None`` when a right covers the request; else why not (the first failing rule)."""
    rights = [effective(r, now) for r in rights_on(client_id, pce, right_ids=right_ids)]
    if not rights:
        return _refusal("no_right", "no_right", data_type)
    active = [r for r in rights if r["etat_droit_acces"] == "Active"]
    if not active:
        holder = any(r.get("source_revocation") == "Titulaire" for r in rights)
        return _refusal("revoked_by_holder" if holder else "not_active", "not_active", data_type)
    typed = [r for r in active if r.get(f"perim_donnees_{data_type}") == "Vrai"]
    if not typed:
        return _refusal("type_not_granted", "type_not_granted", data_type)
    today = today_of(now)
    current = [
        r
        for r in typed
        if r["date_debut_droit_acces"] <= today.isoformat() <= r["date_fin_droit_acces"]
    ]
    if not current:
        return _refusal("expired", "outside_consent_dates", data_type)
    if first is None or last is None:
        return None
    for right in current:
        window = "inj" if "INJECTION" in right["role_tiers"] else "conso"
        start = dt.date.fromisoformat(right[f"perim_donnees_{window}_debut"])
        end = min(
            dt.date.fromisoformat(right[f"perim_donnees_{window}_fin"]),
            dt.date.fromisoformat(right["date_fin_droit_acces"]),
        )
        # ADICT checks the call's dates against the right's range (ref §1.3, §1.4):
        # date_debut ≥ perim_donnees_conso_debut and date_fin ≤ perim_donnees_conso_fin.
        if start <= first and last <= end:
            return None
    return _refusal("outside_data_range", "outside_data_range", data_type)
