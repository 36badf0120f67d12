"""Portal forms of the VEGA pages (French labels)."""

from __future__ import annotations

from typing import Any

from django import forms

from grdf_access.vega.models import Cadence, CatalogueItem, ItemKind


def _items(kind: str | None = None) -> list[tuple[str, str]]:
    found = CatalogueItem.objects.all()
    if kind:
        found = found.filter(kind=kind)
    return [(i.code, f"{i.code} — {i.name}" if i.name else i.code) for i in found]


class UsageForm(forms.Form):
    code = forms.ChoiceField(label="Flux ou service")
    version = forms.CharField(label="Version utilisée", max_length=20)
    note = forms.CharField(label="Note", max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _items()  # type: ignore[attr-defined]


WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


class ExpectedForm(forms.Form):
    code = forms.ChoiceField(label="Publication")
    cadence = forms.ChoiceField(label="Cadence", choices=Cadence.choices)
    expected_time = forms.TimeField(label="Heure attendue (Paris)", initial="08:00")
    weekday = forms.TypedChoiceField(
        label="Jour (hebdomadaire)",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—"), *enumerate(WEEKDAYS)],
    )
    day_of_month = forms.IntegerField(
        label="Jour du mois (mensuelle)", required=False, min_value=1, max_value=31
    )
    grace_minutes = forms.IntegerField(
        label="Tolérance (minutes)", initial=30, min_value=0, max_value=1440
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _items(ItemKind.FLUX)  # type: ignore[attr-defined]


class UploadForm(forms.Form):
    file = forms.FileField(label="Fichier de publication", allow_empty_file=True)


class ListImportForm(forms.Form):
    mois = forms.RegexField(
        label="Mois de la liste (AAAA-MM)", regex=r"^\d{4}-(0[1-9]|1[0-2])$", max_length=7
    )
    file = forms.FileField(label="Liste GRDF des PCE en estimation longue (CSV)")


class SpecialReadingForm(forms.Form):
    pce = forms.CharField(label="PCE", max_length=20)
    requested_on = forms.DateField(label="Demandé le (AAAA-MM-JJ)")
    reference = forms.CharField(label="Référence GRDF", max_length=60, required=False)
