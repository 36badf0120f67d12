"""gunicorn settings of the hub's web process (Procfile, Procfile.dev, Dockerfile, compose)."""

from __future__ import annotations

import os
from typing import Any

# Command-line options (the Procfiles' --bind, --workers) take precedence over these.
bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))

# Flex Ready's certification emulator sends ``EMULATOR_<name>`` headers on every call and the
# hub journals them. gunicorn >= 22 drops every header whose name has an underscore (its
# ``header_map = "drop"``); "dangerous" keeps them all, and ``pre_request`` below drops again
# every underscore name but ``EMULATOR_*``: a client cannot smuggle ``X_Forwarded_For`` (which
# would share ``HTTP_X_FORWARDED_FOR`` with the proxy's ``X-Forwarded-For``).
header_map = "dangerous"
KEPT_UNDERSCORE_PREFIXES = ("EMULATOR_",)


def kept(name: str) -> bool:
    """Whether a header (gunicorn spells names in upper case) reaches the application."""
    return "_" not in name or name.upper().startswith(KEPT_UNDERSCORE_PREFIXES)


def pre_request(worker: Any, req: Any) -> None:
    # Runs before the WSGI environ is built from ``req.headers`` (sync and gthread workers).
    req.headers = [(name, value) for name, value in req.headers if kept(name)]
