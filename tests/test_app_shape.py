"""Every app uses one file vocabulary (issue 14.8; the table is in README.md, "App shape").

"Every app uses the same file vocabulary: api.py + api_urls.py, views.py + portal_urls.py,
services/ or services.py, selectors.py, client/ (or client.py), simulator/ + sim_urls.py,
tasks.py, demo.py."
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

APPS = ["grdf_access", "smartoa", "flexready", "flexready/market", "tic", "hub/control"]

# name → the paths that satisfy it (a module or a package).
SHAPE: dict[str, tuple[str, ...]] = {
    "api": ("api.py",),
    "api_urls": ("api_urls.py",),
    "views": ("views.py",),
    "portal_urls": ("portal_urls.py",),
    "services": ("services.py", "services/__init__.py"),
    "selectors": ("selectors.py",),
    "client": ("client.py", "client/__init__.py"),
    "simulator": ("simulator/__init__.py",),
    "sim_urls": ("sim_urls.py",),
    "tasks": ("tasks.py",),
    "demo": ("demo.py",),
    "api_examples": ("api_examples.py",),
}

# The only parts an app may lack, each for a reason the README's table repeats.
NOT_APPLICABLE: dict[str, dict[str, str]] = {
    "flexready": {
        # The operator (or the certification emulator) calls the hub: nothing to fake here;
        # client.py is the operator side, which the tests drive the hub's API with.
        "simulator": "the counterpart calls the hub",
        "sim_urls": "the counterpart calls the hub",
    },
    "tic": {
        # The meter pushes frames on a serial line; reader.py owns the port.
        "client": "serial input, read by reader.py",
        "sim_urls": "no HTTP counterpart",
    },
    "hub/control": {
        "client": "drivers/ (Modbus TCP, MQTT, webhook)",
        "sim_urls": "Modbus TCP and MQTT, no HTTP counterpart",
    },
}


@pytest.mark.parametrize("app", APPS)
def test_each_app_has_the_shared_file_vocabulary(app: str) -> None:
    folder = ROOT / app
    exempt = NOT_APPLICABLE.get(app, {})
    missing = [
        name
        for name, paths in SHAPE.items()
        if name not in exempt and not any((folder / p).exists() for p in paths)
    ]
    assert not missing, f"{app} lacks {missing}"
    # An exemption that is no longer needed is removed, so the table stays true.
    needless = [n for n in exempt if any((folder / p).exists() for p in SHAPE[n])]
    assert not needless, f"{app} has {needless}: drop the exemption"


@pytest.mark.parametrize("app", APPS)
def test_no_app_keeps_an_ambiguous_urls_module(app: str) -> None:
    """A bare urls.py says neither API, portal nor simulator."""
    assert not (ROOT / app / "urls.py").exists()
