"""The repository stands alone: no file in it reads or cites a folder beside it."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A path into the reading-material folder that sits beside a checkout in some workplaces: a
# fresh clone has no such folder, so code, tests and documents must not depend on it.
BINARY = {".bin", ".png", ".ico", ".woff2", ".xlsx", ".pdf"}
OUTSIDE = re.compile(r"(\.\./|/)shared/|\bshared/(seeds|reference|fixtures)\b")


def _tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    files = []
    for name in filter(None, listed):
        path = REPO / name.decode()
        if path.is_file() and path.suffix not in BINARY:
            files.append(path)
    return files


def test_no_file_refers_to_a_folder_outside_the_repository() -> None:
    offenders = []
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    assert offenders == []


def test_the_guard_recognises_the_spellings_it_looks_for() -> None:
    # Built from parts, so that this file does not carry the spelling it hunts for.
    assert OUTSIDE.search("Path(...).parents[3] / '../sha" + "red/fixtures/tic'")
    assert OUTSIDE.search("see sha" + "red/reference/grdf-adict.md")
    assert not OUTSIDE.search("the shared core (hub)")
    assert not OUTSIDE.search("a shared cache")
