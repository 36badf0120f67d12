"""Template filter for the times Smart OA shows: Paris time, with the offset when it matters."""

from __future__ import annotations

import datetime as dt

from django import template

from hub.clock import format_local

register = template.Library()


@register.filter
def local(value: dt.datetime | str | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """``{{ instant|local:"%d/%m %H:%M" }}``: strftime format, offset on clock-change days.

    Accepts ISO 8601 strings too (a version's diff stores its episodes so).
    """
    if value in (None, ""):
        return ""
    instant = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(instant, dt.datetime)
    return format_local(instant, fmt)
