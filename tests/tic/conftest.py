"""Where the shared TIC captures live (``TIC_FIXTURES`` overrides the default)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "tic"


def fixtures_dir() -> Path:
    return Path(os.environ.get("TIC_FIXTURES", DEFAULT_FIXTURES))


@pytest.fixture(scope="session")
def tic_fixtures() -> Path:
    path = fixtures_dir()
    if not path.is_dir():
        pytest.fail(f"TIC captures not found in {path} (set TIC_FIXTURES)")
    return path
