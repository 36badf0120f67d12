"""Labels of the codes the portal shows: choices by name (a template filter), jobs by kind,
poll runs' sources."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import models
from django.utils.functional import Promise

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


JobLabel = Callable[[Mapping[str, Any]], str]
_JOBS: dict[str, JobLabel] = {}


def register_job(kind: str, label: JobLabel) -> None:
    """Apps name their jobs from ``ready()``: ``label(params)``, in the active language."""
    _JOBS[kind] = label


def job_label(kind: str, params: Mapping[str, Any], stored: str = "") -> str:
    """A job's title in the page's language; a kind no app registered keeps its stored label."""
    label = _JOBS.get(kind)
    return label(params) if label is not None else stored or kind


_POLL_SOURCES: dict[str, str | Promise] = {}


def register_poll_source(code: str, label: str | Promise) -> None:
    """Apps name the sources of their poll runs from ``ready()`` (a lazy translation)."""
    _POLL_SOURCES[code] = label


def poll_source_label(code: str) -> str:
    """A poll run's source in the page's language; a source no app named stays its code."""
    return str(_POLL_SOURCES.get(code, code))
