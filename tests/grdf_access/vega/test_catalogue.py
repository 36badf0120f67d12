"""The catalogue against the seed's tables, row by row (seed 000, GTG GRDF of 2 December 2025).

The expected rows are written here from the slides "Gestion des impacts selon les lots VEGA"
and "Evolutions WS / API pressenties par version", independently of ``data/*.csv``.
"""

from __future__ import annotations

import pytest

from grdf_access.vega.models import CatalogueItem, ItemKind, ItemVersion, Release

FLUX_COLUMNS = ["V24.1", "V24.2", "V25.2", "V26.1", "V26.2", "V26.3", "V27.1"]
# (code, publication name, one cell per column of FLUX_COLUMNS; "" for an empty cell)
FLUX_ROWS = [
    (
        "CONSO_MASS",
        "Accès en masse aux données de consommation - Obsolète",
        "V1",
        "",
        "",
        "",
        "",
        "",
        "",
    ),
    ("PROV", "Estimation des factures d'acheminement (PROV)", "V1", "", "", "", "X", "", ""),
    ("SPOM", "Suivi demande Pommard", "V1", "", "", "Fin", "", "", ""),
    ("SDEM", "Suivi des demandes", "V14", "", "", "X", "", "", "(fin V14)"),
    ("AGLO", "Annexe Globale", "V7", "", "", "", "X", "", ""),
    ("ADIF", "Annexe Différentielle", "V4", "", "", "", "X", "", ""),
    ("AFAC", "Annexes de Facturation", "V8", "", "", "", "X", "", ""),
    ("FPRE", "Frais prévisionnels", "V3", "", "", "", "X", "", ""),
    ("NOTF", "Notifications MES & CHF", "V1", "", "", "X", "", "", "(fin V1)"),
    ("REJJ", "Relèves JJ", "V1", "", "", "X", "", "", ""),
    ("REJM", "Relèves JM - obsolète", "V1", "", "", "", "", "", ""),
    ("REMM", "Relèves MM", "V1", "", "", "X", "", "", ""),
    ("RE6M", "Relèves 6M", "V3", "", "", "X", "", "", ""),
    ("RE1M", "Relèves 1M", "V1", "", "", "X", "", "", ""),
    ("ETEC", "Evènements techniques", "V2", "", "", "X", "", "", ""),
    ("TEMP", "Températures", "V1", "", "", "", "X", "", ""),
    ("LPCE", "Liste de PCE (LPCE)", "V3", "", "", "", "X", "", ""),
    ("SREC", "Suivi des Réclamations", "V1", "X", "", "(fin V1)", "", "", ""),
    ("COK1", "Coefficient de bouclage K1", "V1", "", "", "", "", "X", ""),
    ("COK2", "Coefficient de bouclage K2", "V1", "", "", "", "", "X", ""),
    ("AJ+1", "Allocations provisoires", "V1", "", "", "", "", "X", ""),
    ("AM+1", "Allocations Définitives", "V1", "", "", "", "", "X", ""),
    ("TJDC", "Transmission Journalière des données de consommation", "V2", "", "", "", "", "", ""),
    ("DMASS", "Demande en masse", "V1", "", "", "X", "", "", ""),
]
WS_COLUMNS = ["V24.1", "V24.2", "V26.1", "V26.3"]
WS_ROWS = [
    (
        "RecupererDonnéesPCE",
        "V16",
        "",
        "API REST Données Contractuelles",
        "API REST Données techniques API REST Données de consommation",
    ),
    (
        "CreerDemandeMES",
        "V9",
        "",
        "API REST Création Demande (valable pour tout type de demande + ajout des MCUF)",
        "",
    ),
    ("CreerDemandeMHS", "V10", "", "", ""),
    ("CreerDemandeCHF", "V10", "", "", ""),
    ("CreerDemandeCHDT", "V8", "", "", ""),
    ("CreerDIT", "V9", "", "", ""),
    ("CreerDemandeCOUP", "V5", "", "", ""),
    ("CreerDemandeRETB", "V7", "", "", ""),
    ("CreerDemandeTIDX (ARLV)", "V6", "", "", ""),
    ("CreerDemandeRADDPM", "V1", "", "", ""),
    ("CreerDemandeTJDC", "V1", "", "", ""),
    ("CreerDemandePPH", "V1", "", "", ""),
    ("ProposerCréneauxHoraires", "V2", "", "", ""),
    ("ModifierDemandeRdv", "V8", "", "API REST Valider / Modifier / Abandonner RDV", ""),
    ("SuiviDemande", "V13", "", "API REST Suivi Demande", ""),
    ("AnnulerDemandeUnitaire", "V2", "", "API REST Modifier Demande (inclut l'annulation)", ""),
    ("ResilierDemandeTJDC", "V1", "", "", ""),
    ("RechercherPCEParAdresse", "V2", "", "fin", ""),
    ("Pce Adresse (REST)", "V1", "", "V2", ""),
    ("Info Coupure (REST)", "V1", "", "", ""),
    ("Suivi Reclamation (REST)", "", "V1", "", ""),
]


def _grid(kind: str, columns: list[str]) -> list[tuple[str, ...]]:
    rows = []
    for item in CatalogueItem.objects.filter(kind=kind).order_by("pk"):
        cells = {c.release.code: c.value for c in item.cells.select_related("release")}
        head = (item.code, item.name) if kind == ItemKind.FLUX else (item.code,)
        rows.append(head + tuple(cells.get(code, "") for code in columns))
    return rows


@pytest.mark.django_db
def test_flux_table_matches_the_seed_row_by_row():
    assert _grid(ItemKind.FLUX, FLUX_COLUMNS) == FLUX_ROWS


@pytest.mark.django_db
def test_web_service_table_matches_the_seed_row_by_row():
    assert _grid(ItemKind.WEB_SERVICE, WS_COLUMNS) == WS_ROWS


@pytest.mark.django_db
def test_events_flux_keeps_both_spellings_of_the_deck():
    """The deck prints the table twice: "EETC" in the first copy, "ETEC" in the second."""
    item = CatalogueItem.objects.get(code="ETEC")
    assert item.alias_list() == ["EETC"]


@pytest.mark.django_db
def test_double_run_windows_from_the_slides():
    """ "SDEM … Le double RUN est assuré de la version V26.1 à la version V27.1"; "Publication
    TJDC … de la version V26.3 à la version V27.3"; "WS RécupérerDonneesPCE … de la version V26.3
    à la version V27.3"; "WS TJDC … pas de double RUN"; création demande, suivi demande and
    prise de RDV V26.1 → V27.1."""
    windows = {
        i.code: (
            i.double_run_start.code if i.double_run_start else None,
            i.double_run_end.code if i.double_run_end else None,
            i.no_double_run,
        )
        for i in CatalogueItem.objects.select_related("double_run_start", "double_run_end")
    }
    assert windows["SDEM"] == ("V26.1", "V27.1", False)
    assert windows["TJDC"] == ("V26.3", "V27.3", False)
    assert windows["RecupererDonnéesPCE"] == ("V26.3", "V27.3", False)
    assert windows["CreerDemandeMES"] == ("V26.1", "V27.1", False)
    assert windows["SuiviDemande"] == ("V26.1", "V27.1", False)
    assert windows["ModifierDemandeRdv"] == ("V26.1", "V27.1", False)
    assert windows["CreerDemandeTJDC"][2] is True
    assert windows["ResilierDemandeTJDC"][2] is True


@pytest.mark.django_db
def test_ends_and_replacements_from_the_tables():
    ends = {
        (v.item.code, v.version): v.ends_in.code if v.ends_in else None
        for v in ItemVersion.objects.select_related("item", "ends_in")
    }
    assert ends[("SDEM", "V14")] == "V27.1"  # "(fin V14)" under V27.1
    assert ends[("NOTF", "V1")] == "V27.1"
    assert ends[("SREC", "V1")] == "V26.1"  # "(fin V1)" under V26.1
    assert ends[("SPOM", "V1")] == "V26.1"  # "Fin"
    assert ends[("RechercherPCEParAdresse", "V2")] == "V26.1"  # "fin"
    assert ends[("REJJ", "V1")] is None  # a new version in 26.1, no end announced
    item = CatalogueItem.objects.get(code="RecupererDonnéesPCE")
    assert "Données contractuelles en 26.1" in item.replacement
    assert "Données techniques et Données de consommation en 26.3" in item.replacement
    assert "pas de bascule à réaliser avant 26.3" in item.recommendation


@pytest.mark.django_db
def test_postponed_release_keeps_its_date_history():
    """ "nécessité de décaler la date de mise en production prévue en février 2026 … la nouvelle
    date de mise en production sera annoncée le 19/12/2025"."""
    release = Release.objects.get(code="V26.1")
    assert release.planned_date is None and release.date_status == "unknown"
    history = list(release.date_changes.values_list("date", "status"))
    assert [status for _, status in history] == ["tentative", "unknown"]
    assert history[0][0] is not None and history[0][0].month == 2
    assert Release.objects.get(code="V26.3").planned_date.month == 11
