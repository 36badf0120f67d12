"""The translation catalogues: English complete, and every committed .mo built from its .po."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = sorted(p for p in ROOT.glob("**/locale/*/LC_MESSAGES/*.po") if ".venv" not in p.parts)


def entries(po: Path) -> dict[str, list[str]]:
    """msgid (with ``\\x00`` between singular and plural, as in a .mo) → its msgstr(s)."""
    result: dict[str, list[str]] = {}
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                key = match.group(1)
                fields[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid"):
            msgid = fields["msgid"]
            if "msgid_plural" in fields:
                msgid += "\x00" + fields["msgid_plural"]
                result[msgid] = [fields[k] for k in sorted(fields) if k.startswith("msgstr[")]
            else:
                result[msgid] = [fields.get("msgstr", "")]
    return result


def test_catalogues_are_found() -> None:
    assert ROOT / "locale/en/LC_MESSAGES/django.po" in CATALOGUES
    assert ROOT / "locale/fr/LC_MESSAGES/django.po" in CATALOGUES


@pytest.mark.parametrize("po", [p for p in CATALOGUES if "/en/" in str(p)], ids=str)
def test_english_is_complete(po: Path) -> None:
    """English available: every French source message has its English text."""
    missing = [msgid for msgid, texts in entries(po).items() if not all(texts)]
    assert not missing, missing[:20]


@pytest.mark.parametrize("po", CATALOGUES, ids=str)
def test_compiled_catalogue_matches_its_source(po: Path) -> None:
    """The .mo files are committed (the hub runs where GNU gettext is not installed): each must
    hold exactly its .po's translations, or `make messages` was forgotten after an edit."""
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} missing: run `make messages`"
    with mo.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    for msgid, texts in entries(po).items():
        if not all(texts):
            continue
        if "\x00" in msgid:
            singular = msgid.split("\x00")[0]
            assert [compiled.get((singular, i)) for i in range(len(texts))] == texts, msgid
        else:
            assert compiled.get(msgid) == texts[0], msgid
