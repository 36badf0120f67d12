"""GRDF's sandbox test PCEs (ref §1.9, "API GRDF ADICT_JDD_BAS_v1.3.xlsx" via LOWATT).

Each PCE carries its scenario for every credential: a pre-declared right (never stored, derived
here), its meter's history, and the failure GRDF's data set attaches to it. Sandbox rights are
listed by ``POST /droits_acces`` when the filter names their PCE, not by the plain listing, so
that they do not crowd a real portfolio.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

# Sandbox rights' ids are derived from the PCE so that every process gives the same.
_NAMESPACE = uuid.UUID("6a1c1f0e-6f53-4d8b-9a53-4f1d2c3b4a59")

ALL_TYPES = frozenset({"publiees", "informatives", "contractuelles", "techniques"})

# Scenario faults.
MALFORMED_BLOCK = "malformed_block"  # one broken JSON object inside the NDJSON answer
SERVER_ERROR = "server_error"  # HTTP 500 on data calls
STREAM_ERROR = "stream_error"  # the stream stops with a technical processing status
OUT_OF_SERVICE = "out_of_service"  # MHS: data refused, declaration refused
CONTRACT_EXPIRED = "contract_expired"  # declaration refused (409)


@dataclass(frozen=True)
class Scenario:
    pce: str
    summary: str
    frequency: str = "1M"
    role: str = "AUTORISE_CONTRAT_FOURNITURE"
    state: str | None = "Active"  # None: no right at all
    types: frozenset[str] = ALL_TYPES
    data_start: dt.date = dt.date(2019, 1, 1)
    data_end: dt.date = dt.date(2030, 12, 31)
    consent_end: dt.date = dt.date(2030, 12, 31)
    commissioning: dt.date | None = None  # MES: no data before it
    frequency_changes: tuple[tuple[dt.date, str], ...] = ()
    meter_change: dt.date | None = None  # the index restarts from zero
    communicating_from: dt.date | None = None  # no informative data before it
    tariff_change: dt.date | None = None
    revocation_source: str = ""
    fault: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def right_id(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, self.pce))


SCENARIOS: dict[str, Scenario] = {
    s.pce: s
    for s in (
        Scenario(
            "09999999900617",
            "1M publiées bornées par la MES du 02/08/2021 ; contractuelles OK",
            types=frozenset({"publiees", "informatives", "contractuelles"}),
            commissioning=dt.date(2021, 8, 2),
        ),
        Scenario(
            "09999999975102",
            "6M publiées pluriannuelles bornées au 15/11/2021 ; techniques OK ; bloc JSON cassé",
            frequency="6M",
            types=frozenset({"publiees", "techniques"}),
            data_start=dt.date(2021, 11, 15),
            fault=MALFORMED_BLOCK,
        ),
        Scenario(
            "GI999055",
            "JJ publiées, changement de fréquence le 10/02/2023 ; contrat GRDF expiré",
            frequency="MM",
            types=frozenset({"publiees", "informatives", "contractuelles"}),
            frequency_changes=((dt.date(2023, 2, 10), "JJ"),),
            fault=CONTRACT_EXPIRED,
        ),
        Scenario(
            "GI999947",
            "MM publiées, changement de fournisseur le 01/01/2023 ; informatives MM",
            frequency="MM",
            types=frozenset({"publiees", "informatives"}),
            data_start=dt.date(2023, 1, 1),
        ),
        Scenario(
            "09999999928289",
            "1M, changement de compteur le 29/03/2023, communicant le 14/08/2023",
            types=frozenset({"publiees", "informatives"}),
            meter_change=dt.date(2023, 3, 29),
            communicating_from=dt.date(2023, 8, 14),
        ),
        Scenario(
            "GI999159",
            "JJ, changement de tarif le 01/02/2023 ; erreur technique serveur",
            frequency="JJ",
            tariff_change=dt.date(2023, 2, 1),
            fault=SERVER_ERROR,
        ),
        Scenario("09999999900112", "aucun droit d'accès", state=None),
        Scenario("GI999092", "PCE mis hors service (MHS)", frequency="JJ", fault=OUT_OF_SERVICE),
        Scenario(
            "09999999930215",
            "droit d'accès expiré",
            consent_end=dt.date(2023, 12, 31),
            data_end=dt.date(2023, 12, 31),
        ),
        Scenario(
            "09999999932770",
            "droit révoqué par le titulaire",
            state="Révoquée",
            revocation_source="Titulaire",
        ),
        Scenario(
            "09999999970626",
            "droit révoqué par le tiers",
            state="Révoquée",
            revocation_source="Tiers",
        ),
        Scenario(
            "GI999054", "erreur technique pendant le streaming", frequency="JJ", fault=STREAM_ERROR
        ),
        Scenario("09999999928283", "format de période incorrect (appel avec periode)"),
        Scenario(
            "GI999150",
            "JJ injections publiées",
            frequency="JJ",
            role="AUTORISE_CONTRAT_INJECTION",
            types=frozenset({"publiees", "contractuelles", "techniques"}),
        ),
        Scenario(
            "GI999602",
            "injection, droit dans un autre état qu'Active/Obsolète/Révoquée",
            frequency="JJ",
            role="AUTORISE_CONTRAT_INJECTION",
            state="A revérifier",
        ),
    )
}


def scenario(pce: str) -> Scenario | None:
    return SCENARIOS.get(pce)


def right_of(item: Scenario, *, client_id: str) -> dict[str, object] | None:
    """The sandbox right of ``item`` as the simulator stores rights; ``None`` when it has none."""
    if item.state is None:
        return None
    injection = "INJECTION" in item.role
    window = "inj" if injection else "conso"
    right: dict[str, object] = {
        "id_droit_acces": item.right_id,
        "id_pce": item.pce,
        "role_tiers": item.role,
        "raison_sociale_du_tiers": client_id,
        "nom_titulaire": None,
        "raison_sociale_du_titulaire": "JDD BAS GRDF",
        "courriel_titulaire": "titulaire@example.invalid",
        "numero_telephone_mobile_titulaire": None,
        "code_postal": "75009",
        "date_debut_droit_acces": "2021-01-01",
        "date_fin_droit_acces": item.consent_end.isoformat(),
        f"perim_donnees_{window}_debut": item.data_start.isoformat(),
        f"perim_donnees_{window}_fin": item.data_end.isoformat(),
        "date_creation": "2021-01-01 09:00:00",
        "etat_droit_acces": item.state,
        "parcours": "TIERS_DIRECT",
        "statut_controle_preuve": None,
        "date_limite_transmission_preuve": None,
        "date_revocation": "2023-06-01 10:00:00" if item.revocation_source else None,
        "source_revocation": item.revocation_source or None,
        "date_passage_a_obsolete": None,
        "source_passage_a_obsolete": None,
        "date_passage_a_refuse": None,
        "source_passage_a_refuse": None,
        "_client": client_id,
        "_sandbox": True,
    }
    for name in ("publiees", "informatives", "contractuelles", "techniques"):
        right[f"perim_donnees_{name}"] = "Vrai" if name in item.types else "Faux"
    right["perim_donnees_informatives_horaires"] = "Faux"
    return right
