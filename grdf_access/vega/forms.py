"""Portal forms of the VEGA pages (French labels, through gettext)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grdf_access.vega.models import Cadence, CatalogueItem, ItemKind
from hub.portal.dates import DateField


def _items(kind: str | None = None) -> list[tuple[str, str]]:
    found = CatalogueItem.objects.all()
    if kind:
        found = found.filter(kind=kind)
    return [(i.code, f"{i.code} — {i.name}" if i.name else i.code) for i in found]


class UsageForm(forms.Form):
    code = forms.ChoiceField(label=_("Flux ou service"))
    version = forms.CharField(label=_("Version utilisée"), max_length=20)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _items()  # type: ignore[attr-defined]


WEEKDAYS = [
    _("lundi"),
    _("mardi"),
    _("mercredi"),
    _("jeudi"),
    _("vendredi"),
    _("samedi"),
    _("dimanche"),
]


class ExpectedForm(forms.Form):
    code = forms.ChoiceField(label=_("Publication"))
    cadence = forms.ChoiceField(label=_("Cadence"), choices=Cadence.choices)
    expected_time = forms.TimeField(label=_("Heure attendue (Paris)"), initial="08:00")
    weekday = forms.TypedChoiceField(
        label=_("Jour (hebdomadaire)"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *enumerate(WEEKDAYS)],
    )
    day_of_month = forms.IntegerField(
        label=_("Jour du mois (mensuelle)"), required=False, min_value=1, max_value=31
    )
    grace_minutes = forms.IntegerField(
        label=_("Tolérance (minutes)"), initial=30, min_value=0, max_value=1440
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _items(ItemKind.FLUX)  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Fichier de publication"), allow_empty_file=True)


class ListImportForm(forms.Form):
    mois = forms.CharField(
        label=_("Mois de la liste"),
        max_length=7,
        widget=forms.TextInput(attrs={"placeholder": _("MM/AAAA"), "autocomplete": "off"}),
    )
    file = forms.FileField(label=_("Liste GRDF des PCE en estimation longue (CSV)"))

    def clean_mois(self) -> str:
        """The list's month as ``AAAA-MM``, typed as 12/2026 (or 2026-12)."""
        text = self.cleaned_data["mois"].strip()
        match = re.fullmatch(r"(0?[1-9]|1[0-2])/(\d{4})", text) or re.fullmatch(
            r"(\d{4})-(0[1-9]|1[0-2])", text
        )
        if match is None:
            raise forms.ValidationError(
                _("Mois invalide : saisissez-le au format MM/AAAA (12/2026).")
            )
        month, year = (match[1], match[2]) if "/" in text else (match[2], match[1])
        return f"{year}-{int(month):02d}"


class SpecialReadingForm(forms.Form):
    pce = forms.CharField(label=_("PCE"), max_length=20)
    requested_on = DateField(label=_("Demandé le"))
    reference = forms.CharField(label=_("Référence GRDF"), max_length=60, required=False)
