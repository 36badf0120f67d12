"""Date inputs of the portal: text in the page language's format, never the browser's picker."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from hub.clock import PARIS

# A native ``<input type="date">`` shows the browser's locale (mm/dd/yyyy in an English
# Chromium), whatever the page's language: the portal asks for text in its own format instead,
# parsed with the language's ``DATE_INPUT_FORMATS`` (hub/formats/). English is day-first too.
DATE_PLACEHOLDER = _("JJ/MM/AAAA")
DATETIME_PLACEHOLDER = _("JJ/MM/AAAA HH:MM")


class DateInput(forms.DateInput):
    """A text input showing its value and its placeholder in the active language's format."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # No fixed format: the value is shown with the first of DATE_INPUT_FORMATS.
        super().__init__({"autocomplete": "off", "size": "10", **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", str(DATE_PLACEHOLDER))
        return context


class DateTimeInput(forms.DateTimeInput):
    """Paris wall time as text; on a clock-change night the value carries its UTC offset."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"autocomplete": "off", "size": "22", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        text = super().format_value(value)
        if isinstance(value, dt.datetime) and text and _ambiguous(value):
            local = value.astimezone(PARIS) if timezone.is_aware(value) else value
            offset = local.replace(tzinfo=PARIS).strftime("%z")
            return f"{text}{offset[:3]}:{offset[3:]}"
        return text

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", str(DATETIME_PLACEHOLDER))
        return context


class DateField(forms.DateField):
    """A day typed as 10/12/2026 (or ISO 8601); a bad one says which format is expected."""

    widget = DateInput
    default_error_messages = {
        "invalid": _("Date invalide : saisissez-la au format JJ/MM/AAAA (par exemple 10/12/2026)."),
    }


class DateTimeField(forms.DateTimeField):
    """A Paris wall time typed as 10/12/2026 14:30; the offset is needed only when ambiguous."""

    widget = DateTimeInput
    default_error_messages = {
        "invalid": _(
            "Date et heure invalides : saisissez-les au format JJ/MM/AAAA HH:MM "
            "(par exemple 10/12/2026 14:30)."
        ),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        try:
            return super().to_python(value)
        except ValidationError as exc:
            if getattr(exc, "code", None) != "ambiguous_timezone":
                raise
            raise ValidationError(
                _(
                    "Cette heure n'existe pas ou existe deux fois le jour du changement d'heure : "
                    "ajoutez son décalage UTC (par exemple 25/10/2026 02:30+02:00 pour la "
                    "première, +01:00 pour la seconde)."
                ),
                code="ambiguous_timezone",
            ) from None


def parse_date(text: str | None) -> dt.date | None:
    """A day typed in the page's language (or ISO 8601), None when empty or unreadable."""
    try:
        return DateField(required=False).clean(text or "")
    except ValidationError:
        return None


def parse_wall_time(text: str) -> dt.datetime | None:
    """A date and time typed in the page's language or ISO 8601, as typed: naive (a wall time
    the caller places on its clock) or with its offset; None when unreadable."""
    text = text.strip()
    for fmt in formats.get_format("DATETIME_INPUT_FORMATS"):
        try:
            return dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - a wall time, placed by the caller
        except ValueError:
            continue
    try:
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None


def _ambiguous(value: dt.datetime) -> bool:
    """Whether the Paris wall time of ``value`` happens twice (the night the clocks go back)."""
    local = value.astimezone(PARIS) if timezone.is_aware(value) else value
    naive = local.replace(tzinfo=None)
    first = naive.replace(fold=0, tzinfo=PARIS).utcoffset()
    second = naive.replace(fold=1, tzinfo=PARIS).utcoffset()
    return first != second
