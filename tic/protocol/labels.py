"""Label tables per meter family, real-meter spellings, and family detection.

Tables transcribe Enedis-NOI-CPT_02E v6 Tableaux 1-5 (blue meters), 10 (PME-PMI), 12 (SAPHIR)
and Enedis-NOI-CPT_54E v3 §6.1 (Linky historique), §6.2.2 (Linky standard).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace

from . import linky
from .model import MeterFamily
from .values import (
    PME_MARKERS,
    SAPHIR_MARKERS,
    Converter,
    empty,
    identifier,
    integer,
    local_date,
    pme_dynamic_event,
    quantity,
    saphir_dynamic_event,
    text,
)


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """How to type one label: its data converter and whether it carries a horodate."""

    convert: Converter
    horodated: bool = False
    timestamp_is_value: bool = False  # Linky ``DATE``: empty data, the horodate is the value
    sizes: frozenset[int] | None = None  # data lengths the table allows, when it fixes them


def _plain(converter: Converter) -> LabelSpec:
    return LabelSpec(converter)


def _specs(
    labels: str | list[str], converter: Converter, *, horodated: bool = False
) -> dict[str, LabelSpec]:
    names = labels.split() if isinstance(labels, str) else labels
    return dict.fromkeys(names, LabelSpec(converter, horodated))


_PTEC = r"(TH|HC|HP|HN|PM)\.\.|HCJ[BWR]|HPJ[BWR]"
_PERIOD = r"[0-9A-Z]{1,3} {0,2}"  # 1-3 characters, optionally space-padded to 3

# Blue meters and Linky historique: zero-padded integers with implicit units.
_HISTORIQUE: dict[str, LabelSpec] = {
    "ADCO": _plain(identifier(12)),
    "OPTARIF": _plain(text(r"BASE|HC\.\.|EJP\.|BBR[\x20-\x7e]")),
    **_specs("ISOUSC IINST IINST1 IINST2 IINST3 ADPS IMAX IMAX1 IMAX2 IMAX3", integer("A")),
    **_specs("ADIR1 ADIR2 ADIR3", integer("A")),
    **_specs(
        "BASE HCHC HCHP EJPHN EJPHPM BBRHCJB BBRHPJB BBRHCJW BBRHPJW BBRHCJR BBRHPJR",
        integer("Wh"),
    ),
    "PEJP": _plain(integer("min")),
    "PTEC": _plain(text(_PTEC)),
    "DEMAIN": _plain(text(r"----|BLEU|BLAN|ROUG")),
    "PAPP": _plain(integer("VA")),
    "PMAX": _plain(integer("W")),
    "HHPHC": _plain(text(r"[ACDEY]")),
    "MOTDETAT": _plain(text(r"[0-9A-Z]{6}")),
    "PPOT": _plain(text(r"[0-9A-F]{2}")),
    # Concentrateur de téléreport (02E Tableau 1): gas / third meter in decalitres.
    **_specs("GAZ AUTRE", integer("L", 10)),
}

_STANDARD: dict[str, LabelSpec] = {
    "ADSC": _plain(identifier(12)),
    "VTIC": _plain(text(r"\d\d")),
    "DATE": LabelSpec(empty(), horodated=True, timestamp_is_value=True),
    "NGTF": _plain(text()),
    "LTARF": _plain(text()),
    **_specs(
        ["EAST", "EAIT"]
        + [f"EASF{n:02d}" for n in range(1, 11)]
        + [f"EASD{n:02d}" for n in range(1, 5)],
        integer("Wh"),
    ),
    **_specs("ERQ1 ERQ2 ERQ3 ERQ4", integer("varh")),
    **_specs("IRMS1 IRMS2 IRMS3", integer("A")),
    **_specs("URMS1 URMS2 URMS3", integer("V")),
    **_specs("PREF PCOUP", integer("VA", 1000)),
    **_specs("SINSTS SINSTS1 SINSTS2 SINSTS3 SINSTI", integer("VA")),
    **_specs(
        "SMAXSN SMAXSN1 SMAXSN2 SMAXSN3 SMAXSN-1 SMAXSN1-1 SMAXSN2-1 SMAXSN3-1 SMAXIN SMAXIN-1",
        integer("VA"),
        horodated=True,
    ),
    **_specs("CCASN CCASN-1 CCAIN CCAIN-1", integer("W"), horodated=True),
    **_specs("UMOY1 UMOY2 UMOY3", integer("V"), horodated=True),
    "STGE": _plain(linky.status_register),
    **_specs("DPM1 FPM1 DPM2 FPM2 DPM3 FPM3", integer(), horodated=True),
    "MSG1": _plain(text()),
    "MSG2": _plain(text()),
    "PRM": _plain(identifier(14)),
    "RELAIS": _plain(linky.relays),
    **_specs("NTARF NJOURF NJOURF+1", integer()),
    **_specs("PJOURF+1 PPOINTE", linky.day_profile),
}

_PME_DATE = local_date("pme")
_PME_POWER = quantity("kW", markers=PME_MARKERS)

# PME-PMI (02E Tableau 10 and §2.9.3). Canonical labels are spelled as Tableau 10 prints them
# (``DébP``, ``EaP-1_s``, ``EaP_s2``); what real meters send instead is in ``ALIASES``.
_PMEPMI: dict[str, LabelSpec] = {
    "TRAME": _plain(text(r"TEST")),
    "ADS": _plain(identifier(12)),
    # 10 characters from 02E Tableau 11 ("BT 4 SUP36", "TJ EJP-SD ", "HTA 5     "…).
    **_specs("MESURES1 MESURES2", text(r"[0-9A-Z -]{10}")),
    **_specs(
        "DATE DébP DébP-1 FinP-1 DébP_2 DébP-1_2 FinP-1_2"
        " DATEPA1 DATEPA2 DATEPA3 DATEPA4 DATEPA5 DATEPA6",
        _PME_DATE,
    ),
    **_specs("EA_s EA_i", quantity("Wh")),
    **_specs("ER+_s ER-_s ER+_i ER-_i", quantity("varh")),
    **_specs("EAPP_s EAPP_i", quantity("VAh")),
    **_specs("PTCOUR1 PTCOUR2", text(_PERIOD)),
    "TARIFDYN": _plain(text(r"ACTIF|INACTIF")),
    **_specs("ETATDYN1 ETATDYN2", text(_PERIOD)),
    **_specs("PREAVIS1 PREAVIS2", text(r"TD-(" + _PERIOD + r"| \? )")),
    **_specs("TDYN1CD TDYN1CF TDYN1FD TDYN1FF TDYN2CD TDYN2CF TDYN2FD TDYN2FF", pme_dynamic_event),
    "MODE": _plain(text(r"CONTROLE")),
    "CONFIG": _plain(text(r"CONSO|PROD")),
    **_specs([f"PA{n}_{d}" for n in range(1, 7) for d in "si"], _PME_POWER),
    **_specs("EAP_s EAP_i EaP-1_s EaP-1_i EaP_s2 EaP-1_s2", quantity("kWh")),
    **_specs("ER+P_s ER-P_s ER+P_i ER-P_i ER+P-1_s ER-P-1_s ER+P-1_i ER-P-1_i", quantity("kvarh")),
    **_specs("PS PMAX_s PMAX_i", quantity("kW", "kVA")),
    "PREAVIS": _plain(text(r"DEP ?")),
    "PA1MN": _plain(quantity("kW")),
    **_specs("TGPHI_s TGPHI_i", quantity("", signed=True, fraction=True)),
}

_SAPHIR_DATE = local_date("saphir")
_SAPHIR_PERIODS = range(1, 9)


def _per_period(template: str) -> list[str]:
    return [template.format(x=x) for x in _SAPHIR_PERIODS]


# SAPHIR (02E Tableau 12 and §2.10.3).
_SAPHIR: dict[str, LabelSpec] = {
    "LG_TRM": _plain(text(r"TRM_COURTE|TRM_LONGUE")),
    "ADS": _plain(identifier(12)),
    **_specs(["DATE", "FINP1"] + [f"DATEPA{x}" for x in range(1, 7)], _SAPHIR_DATE),
    "MESSAGE": _plain(text(r"[\x20-\x7e]{0,80}")),
    **_specs("TD TC", integer("min")),
    **_specs("EAS EAI", quantity("Wh")),
    **_specs("ER+S ER-S ER+I ER-I", quantity("varh")),
    **_specs("I1I I2I I3I", quantity("A", fraction=True)),
    **_specs("GRILLE_D GRILLE_F", text(r"[\x20-\x7e]{1,8}")),
    **_specs("PTCOURD PTCOURF", text(_PERIOD)),
    "PREAVIS": _plain(text(r"DEP")),
    **_specs("PREAVISD PREAVISF", text(r"TD-[1-3]")),
    **_specs("TDYND TDYNF", saphir_dynamic_event),
    **_specs("ETATDYND ETATDYNF", text(r"[0-3]")),
    "MODE": _plain(text(r"CONTROLE")),
    **_specs(
        [f"PA{x}{d}" for x in range(1, 7) for d in "SI"],
        quantity("kW", markers=SAPHIR_MARKERS),
    ),
    **_specs(
        [f"PR{s}{x}{d}" for x in range(1, 7) for d in "SI" for s in "+-"],
        quantity("kvar", markers=SAPHIR_MARKERS),
    ),
    **_specs([f"UMOY{x}" for x in range(1, 7)], quantity("V", markers=SAPHIR_MARKERS)),
    **_specs(
        _per_period("EAp{x}SD")
        + _per_period("EAp{x}ID")
        + _per_period("EAp{x}SD1")
        + _per_period("EAp{x}ID1")
        + _per_period("EAp{x}SF")
        + _per_period("EAp{x}SF1"),
        quantity("kWh"),
    ),
    **_specs(
        [
            label
            for suffix in ("SD", "ID", "SD1", "ID1")
            for sign in "+-"
            for label in _per_period(f"ER{sign}p{{x}}{suffix}")
        ],
        quantity("kvarh"),
    ),
    **_specs("KDC KDCD", quantity("%")),
    **_specs(_per_period("PSp{x}"), quantity("kW")),
    **_specs(_per_period("LIB_p{x}D") + _per_period("LIB_p{x}F"), text(_PERIOD)),
    **_specs("PA1MN PA10MN IPA1MN IPATMN", quantity("kW")),
    **_specs("PREA1MN PREA10MN IPREA1MN IPREATMN", quantity("kvar", signed=True)),
    **_specs("TGPHIS TGPHII", quantity("", signed=True, fraction=True)),
    "U10MN": _plain(quantity("V")),
}


def _lengths(spec: str) -> dict[str, frozenset[int]]:
    out: dict[str, frozenset[int]] = {}
    for item in spec.split():
        labels, _, sizes = item.partition("=")
        for label in labels.split(","):
            out[label] = frozenset(int(size) for size in sizes.split("|"))
    return out


_EASF = ",".join(f"EASF{n:02d}" for n in range(1, 11))
_EASD = ",".join(f"EASD{n:02d}" for n in range(1, 5))
# Data lengths fixed by the tables (« Nombre de caractères »): 02E Tableaux 1-5, 54E §6.1 and
# §6.2.2. A group that lost or gained characters summing to 0 modulo 64 keeps its checksum and
# its parity; only its length gives it away. Indexes have 9 digits (8 on the concentrator,
# Tableau 1). PME-PMI and SAPHIR values have no fixed width (leading zeros are dropped).
DATA_LENGTHS: Mapping[MeterFamily, Mapping[str, frozenset[int]]] = {
    MeterFamily.LINKY_HISTORIQUE: (
        _historique_lengths := _lengths(
            "ADCO=12 OPTARIF=4 ISOUSC=2 PEJP=2 PTEC=4 DEMAIN=4 PAPP=5 PMAX=5 HHPHC=1"
            " MOTDETAT=6 PPOT=2 GAZ,AUTRE=7"
            " BASE,HCHC,HCHP,EJPHN,EJPHPM,BBRHCJB,BBRHPJB,BBRHCJW,BBRHPJW,BBRHCJR,BBRHPJR=8|9"
            " IINST,IINST1,IINST2,IINST3,ADPS,IMAX,IMAX1,IMAX2,IMAX3,ADIR1,ADIR2,ADIR3=3"
        )
    ),
    MeterFamily.CBE: _historique_lengths,
    MeterFamily.LINKY_STANDARD: _lengths(
        f"ADSC=12 VTIC=2 NGTF,LTARF=16 EAST,EAIT,ERQ1,ERQ2,ERQ3,ERQ4,{_EASF},{_EASD}=9"
        " IRMS1,IRMS2,IRMS3,URMS1,URMS2,URMS3,UMOY1,UMOY2,UMOY3,RELAIS=3 PREF,PCOUP=2"
        " SINSTS,SINSTS1,SINSTS2,SINSTS3,SINSTI=5"
        " SMAXSN,SMAXSN1,SMAXSN2,SMAXSN3,SMAXSN-1,SMAXSN1-1,SMAXSN2-1,SMAXSN3-1=5"
        " SMAXIN,SMAXIN-1,CCASN,CCASN-1,CCAIN,CCAIN-1=5 STGE=8"
        " DPM1,FPM1,DPM2,FPM2,DPM3,FPM3,NTARF,NJOURF,NJOURF+1=2 MSG1=32 MSG2=16 PRM=14"
        " PJOURF+1,PPOINTE=98"
    ),
}


def _sized(
    table: dict[str, LabelSpec], lengths: Mapping[str, frozenset[int]]
) -> dict[str, LabelSpec]:
    return {label: replace(spec, sizes=lengths.get(label)) for label, spec in table.items()}


_HISTORIQUE_SIZED = _sized(_HISTORIQUE, _historique_lengths)

TABLES: Mapping[MeterFamily, Mapping[str, LabelSpec]] = {
    MeterFamily.PMEPMI: _PMEPMI,
    MeterFamily.SAPHIR: _SAPHIR,
    MeterFamily.LINKY_HISTORIQUE: _HISTORIQUE_SIZED,
    MeterFamily.LINKY_STANDARD: _sized(_STANDARD, DATA_LENGTHS[MeterFamily.LINKY_STANDARD]),
    MeterFamily.CBE: _HISTORIQUE_SIZED,
    MeterFamily.UNKNOWN: {},
}


# 02E Tableau 10 (pp. 69-71) prints « DébP » and « EaP-1_s », « EaP-1_i », « EaP_s2 »,
# « EaP-1_s2 » (lowercase a) beside « EAP_s », « EAP_i ». Real meters send ASCII ``DebP`` and
# ``EAP…`` throughout (tests/fixtures/tic/liberasys_pmepmi_stream.bin). An « é » sent anyway
# reaches a 7-bit reader as ``i`` (Latin-1 0xE9) or ``C)`` (UTF-8 0xC3 0xA9) once bit 7 is cut;
# read with its parity bit such a byte fails the parity check instead.
SPEC_SPELLINGS: Mapping[str, tuple[str, ...]] = {
    "DébP": ("DebP", "DibP", "DC)bP"),
    "DébP-1": ("DebP-1", "DibP-1", "DC)bP-1"),
    "DébP_2": ("DebP_2", "DibP_2", "DC)bP_2"),
    "DébP-1_2": ("DebP-1_2", "DibP-1_2", "DC)bP-1_2"),
    "EaP-1_s": ("EAP-1_s",),
    "EaP-1_i": ("EAP-1_i",),
    "EaP_s2": ("EAP_s2",),
    "EaP-1_s2": ("EAP-1_s2",),
    "EAP_s": ("EaP_s",),
    "EAP_i": ("EaP_i",),
}


# Received spelling → canonical label (the spec's).
ALIASES: Mapping[str, str] = {
    alias: canonical for canonical, aliases in SPEC_SPELLINGS.items() for alias in aliases
}

# Linky device types (54E §2.2): characters 5-6 of the 12-digit serial number.
LINKY_TYPES = frozenset({"61", "62", "63", "64", "70", "71", "75", "76"})

_SAPHIR_MARKS = frozenset(("LG_TRM", "PTCOURD", "EAS", "GRILLE_D", "PTCOURF"))
_PMEPMI_MARKS = frozenset(("MESURES1", "PTCOUR1", "EA_s", "CONFIG", "TRAME"))
_STANDARD_MARKS = frozenset(("ADSC", "VTIC", "EAST", "SINSTS", "PRM", "STGE", "NGTF", "LTARF"))


def detect_family(labels: AbstractSet[str], adco: str | None = None) -> MeterFamily:
    """Tell the meter family from the labels of one frame and ADCO's device type."""
    if not labels.isdisjoint(_STANDARD_MARKS):
        return MeterFamily.LINKY_STANDARD
    if not labels.isdisjoint(_SAPHIR_MARKS):
        return MeterFamily.SAPHIR
    if not labels.isdisjoint(_PMEPMI_MARKS):
        return MeterFamily.PMEPMI
    if adco is not None:
        return MeterFamily.LINKY_HISTORIQUE if adco[4:6] in LINKY_TYPES else MeterFamily.CBE
    return MeterFamily.UNKNOWN
