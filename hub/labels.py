"""Labels of the codes the portal shows: choices registered by name, read by a template filter."""

from __future__ import annotations

from django.db import models

_CHOICES: dict[str, type[models.Choices]] = {}


def register(name: str, choices: type[models.Choices]) -> None:
    """Apps register their choices from ``ready()``; templates write ``code|label:"name"``."""
    _CHOICES[name] = choices


def label(name: str, code: object) -> str:
    """The label of ``code`` in the choices registered as ``name``; unknown codes as they are."""
    choices = _CHOICES[name]
    if code in choices.values:
        return str(choices(code).label)
    return "" if code is None else str(code)
