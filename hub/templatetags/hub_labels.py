"""Template filters that show codes by their label and instants in the reader's local time."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats, translation

from hub import labels
from hub.clock import format_local

register = template.Library()


@register.filter
def label(code: object, name: str) -> str:
    """``{{ run.outcome|label:"hub.PollOutcome" }}``: the code's label in the page's language."""
    return labels.label(name, code)


@register.filter
def poll_source(code: str) -> str:
    """``{{ run.source|poll_source }}``: who was polled, named in the page's language."""
    return labels.poll_source_label(code)


@register.filter
def local(value: dt.datetime | str | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """``{{ frame.at|local }}``: Paris wall time, with its UTC offset on clock-change days."""
    if value in (None, ""):
        return ""
    instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(instant, dt.datetime)
    return format_local(instant, fmt)


@register.filter
def iso_day(value: str | dt.date | None) -> str:
    """``{{ "2026-11-29"|iso_day }}``: a day kept as ISO text (JSON), in the reader's format."""
    if value in (None, ""):
        return ""
    try:
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)  # not a day: shown as stored rather than hidden
    return formats.date_format(day, "SHORT_DATE_FORMAT")


@register.simple_tag
def colon() -> str:
    """``{% translate "État" %}{% colon %}``: French sets a no-break space before a colon,
    English none, so a colon after a translated label cannot be written into the template."""
    language = translation.get_language() or ""
    return "\u00a0:" if language.split("-")[0] == "fr" else ":"
