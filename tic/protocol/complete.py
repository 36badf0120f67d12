"""Groups a meter always sends, per family and mode: a frame without one of them is not used.

Enedis-NOI-CPT_02E §1.5.3.1 step D: « Si un groupe attendu est absent de la trame, passer à la
réception et l'analyse de la trame suivante ». A frame cut by a spurious STX, or one that lost a
whole group, can pass every checksum; only the groups its meter always sends tell it apart.
The sets are the groups each table lists without a condition of configuration or event:

* blue meters and Linky historique (02E Tableaux 2-3, 54E §6.1): ``ADCO``, ``OPTARIF``,
  ``ISOUSC``, ``PTEC`` and the indexes of the tariff option ``OPTARIF`` names; the « veille »
  frame is ``ADCO`` alone (02E §2.3.2); CBETM short frames (Tableau 5) carry ``ADIR1-3``,
  ``ADCO`` and ``IINST1-3``;
* Linky standard (54E §6.2.2, « Les trames sont émises en permanence et comportent la liste des
  données suivantes »): ``ADSC``, ``VTIC``, ``DATE``, ``NGTF``, ``LTARF``, ``EAST``, ``IRMS1``,
  ``URMS1``, ``PREF``, ``SINSTS``, ``NTARF``;
* PME-PMI (02E Tableau 10 and §2.9.2.1: a frame is part 1 from ``MESURES1`` and part 2 from
  ``MESURES2``): ``MESURES1``, ``DATE``, ``EA_s``, ``ER+_s``, ``ER-_s``, ``EAPP_s``,
  ``PTCOUR1``, ``CONFIG``, ``EAP_s``, ``PS``, ``MESURES2``, ``PTCOUR2``; with ``CONFIG PROD``
  also ``EA_i`` and ``EAPP_i``; a TIC test frame (``TRAME TEST``, §2.9.3 (W)) ``TRAME`` and
  ``PTCOUR1``;
* SAPHIR (02E Tableau 12, groups of every frame of both profiles): ``LG_TRM``, ``ADS``,
  ``DATE``, ``EAS``, ``ER+S``, ``ER-S``, ``PTCOURD``, ``PTCOURF``; long frames also ``TD``.

A frame whose family the labels do not tell is not complete either: nothing is expected of it.

Beyond those sets, what a meter sends depends on its configuration (tariff option, profile,
phases), which does not change from one frame to the next: the stream decoder also expects
every group the previous frame of the same kind carried, except the groups sent only on an
event or a condition (``CONDITIONAL``). A frame that lost one is invalid; the next one is
compared with it, so a meter whose configuration did change costs one frame.
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import Group, MeterFamily

_OPTION_INDEXES: dict[str, tuple[str, ...]] = {
    "BASE": ("BASE",),
    "HC..": ("HCHC", "HCHP"),
    "EJP.": ("EJPHN", "EJPHPM"),
    "BBR": ("BBRHCJB", "BBRHPJB", "BBRHCJW", "BBRHPJW", "BBRHCJR", "BBRHPJR"),
}
_HISTORIQUE = ("ADCO", "OPTARIF", "ISOUSC", "PTEC")
_TRIPHASE_SHORT = ("ADCO", "IINST1", "IINST2", "IINST3")
_STANDARD = (
    "ADSC", "VTIC", "DATE", "NGTF", "LTARF", "EAST", "IRMS1", "URMS1", "PREF", "SINSTS", "NTARF",
)  # fmt: skip
_PMEPMI = (
    "MESURES1", "DATE", "EA_s", "ER+_s", "ER-_s", "EAPP_s", "PTCOUR1", "CONFIG", "EAP_s", "PS",
    "MESURES2", "PTCOUR2",
)  # fmt: skip
_PMEPMI_PROD = ("EA_i", "EAPP_i")
_PMEPMI_TEST = ("TRAME", "PTCOUR1")
_SAPHIR = ("LG_TRM", "ADS", "DATE", "EAS", "ER+S", "ER-S", "PTCOURD", "PTCOURF")
_SAPHIR_LONG = ("TD",)

UNRECOGNISED = "meter family not recognised from the labels"


_OPTION_SETS = {
    option: frozenset(_HISTORIQUE + indexes) for option, indexes in _OPTION_INDEXES.items()
}
_HISTORIQUE_SET = frozenset(_HISTORIQUE)
_TRIPHASE_SHORT_SET = frozenset(_TRIPHASE_SHORT)
_STANDARD_SET = frozenset(_STANDARD)
_PMEPMI_SET = frozenset(_PMEPMI)
_PMEPMI_PROD_SET = frozenset(_PMEPMI + _PMEPMI_PROD)
_PMEPMI_TEST_SET = frozenset(_PMEPMI_TEST)
_SAPHIR_SET = frozenset(_SAPHIR)
_SAPHIR_LONG_SET = frozenset(_SAPHIR + _SAPHIR_LONG)
_NOTHING: frozenset[str] = frozenset()
_ORDER = {
    label: n
    for n, label in enumerate(
        _HISTORIQUE + _TRIPHASE_SHORT + sum(_OPTION_INDEXES.values(), ())
        + _STANDARD + _PMEPMI + _PMEPMI_PROD + _PMEPMI_TEST + _SAPHIR + _SAPHIR_LONG
    )
}  # fmt: skip


def _expected(family: MeterFamily, groups: Mapping[str, Group]) -> frozenset[str]:
    if family is MeterFamily.LINKY_STANDARD:
        return _STANDARD_SET
    if family is MeterFamily.PMEPMI:
        if "TRAME" in groups:
            return _PMEPMI_TEST_SET
        config = groups.get("CONFIG")
        return _PMEPMI_PROD_SET if config is not None and config.value == "PROD" else _PMEPMI_SET
    if family is MeterFamily.SAPHIR:
        kind = groups.get("LG_TRM")
        return _SAPHIR_LONG_SET if kind is not None and kind.value == "TRM_LONGUE" else _SAPHIR_SET
    if family in (MeterFamily.LINKY_HISTORIQUE, MeterFamily.CBE):
        if len(groups) == 1 and "ADCO" in groups:  # « option veille »
            return _NOTHING
        if "ADIR1" in groups or "ADIR2" in groups or "ADIR3" in groups:
            return _TRIPHASE_SHORT_SET
        option = groups.get("OPTARIF")
        name = option.value if option is not None and isinstance(option.value, str) else ""
        return _OPTION_SETS.get("BBR" if name.startswith("BBR") else name, _HISTORIQUE_SET)
    return _NOTHING


def missing_groups(family: MeterFamily, groups: Mapping[str, Group]) -> tuple[str, ...]:
    """Labels ``family`` always sends that ``groups`` lacks, in the table's order."""
    expected = _expected(family, groups)
    if groups.keys() >= expected:  # a keys view compares without building a set
        return ()
    return tuple(sorted(expected.difference(groups), key=_ORDER.__getitem__))


# Groups sent only while an event or condition lasts (02E Tableaux 2-5, 10, 12; 54E §6.2.2).
CONDITIONAL = frozenset(
    [
        "ADPS", "PEJP", "ADIR1", "ADIR2", "ADIR3",  # overcurrent, EJP notice, CBETM short
        "PREAVIS", "PREAVIS1", "PREAVIS2", "MODE", "TRAME",  # PME-PMI / SAPHIR events
        "TDYN1CD", "TDYN1CF", "TDYN1FD", "TDYN1FF", "TDYN2CD", "TDYN2CF", "TDYN2FD", "TDYN2FF",
        "TDYND", "TDYNF",
        "DPM1", "FPM1", "DPM2", "FPM2", "DPM3", "FPM3", "MSG2", "PPOINTE",  # Linky standard
    ]
)  # fmt: skip


def kind_of(family: MeterFamily, mode: str, groups: Mapping[str, Group]) -> tuple[str, ...]:
    """Frames of one kind carry the same groups: family, mode, and long/short layout."""
    if family is MeterFamily.SAPHIR:
        layout = groups.get("LG_TRM")
        return family, mode, str(layout.value) if layout is not None else ""
    if "ADIR1" in groups or "ADIR2" in groups or "ADIR3" in groups:
        return family, mode, "short"
    # A « veille » frame (ADCO alone) is of the ordinary kind: the head of a frame cut by a
    # spurious ETX looks the same, so the first one after full frames is refused.
    if "TRAME" in groups:
        return family, mode, "test"
    return family, mode, ""
