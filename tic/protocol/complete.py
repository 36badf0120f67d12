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


def _expected(family: MeterFamily, groups: Mapping[str, Group]) -> tuple[str, ...]:
    if family in (MeterFamily.LINKY_HISTORIQUE, MeterFamily.CBE):
        if len(groups) == 1 and "ADCO" in groups:  # « option veille »
            return ()
        if any(label in groups for label in ("ADIR1", "ADIR2", "ADIR3")):
            return _TRIPHASE_SHORT
        option = groups.get("OPTARIF")
        name = option.value if option is not None and isinstance(option.value, str) else ""
        return _HISTORIQUE + _OPTION_INDEXES.get("BBR" if name.startswith("BBR") else name, ())
    if family is MeterFamily.LINKY_STANDARD:
        return _STANDARD
    if family is MeterFamily.PMEPMI:
        if "TRAME" in groups:
            return _PMEPMI_TEST
        config = groups.get("CONFIG")
        return _PMEPMI + (_PMEPMI_PROD if config is not None and config.value == "PROD" else ())
    if family is MeterFamily.SAPHIR:
        kind = groups.get("LG_TRM")
        return _SAPHIR + (_SAPHIR_LONG if kind is not None and kind.value == "TRM_LONGUE" else ())
    return ()


def missing_groups(family: MeterFamily, groups: Mapping[str, Group]) -> tuple[str, ...]:
    """Labels ``family`` always sends that ``groups`` lacks, in the table's order."""
    return tuple(label for label in _expected(family, groups) if label not in groups)


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
        return family.value, mode, str(layout.value) if layout is not None else ""
    if any(label in groups for label in ("ADIR1", "ADIR2", "ADIR3")):
        return family.value, mode, "short"
    if len(groups) == 1 and "ADCO" in groups:
        return family.value, mode, "veille"
    if "TRAME" in groups:
        return family.value, mode, "test"
    return family.value, mode, ""
