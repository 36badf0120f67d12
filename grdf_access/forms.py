"""Portal forms of GRDF access (French labels, as the rest of the portal)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from grdf_access.models import DataType, Role, SubscriptionKind, ThresholdFrequency
from hub.portal.dates import DateField


class RightForm(forms.Form):
    """A unit access-right request; the rules are ``grdf_access.specs``'s (shared with CSV/API)."""

    pce = forms.CharField(label=_("PCE"), max_length=20)
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices, initial=Role.AUTHORISED)
    nom_titulaire = forms.CharField(label=_("Nom du titulaire (particulier)"), required=False)
    raison_sociale = forms.CharField(label=_("Raison sociale du titulaire"), required=False)
    courriel_titulaire = forms.CharField(label=_("Courriel du titulaire"), required=False)
    mobile_titulaire = forms.CharField(label=_("Mobile du titulaire"), required=False)
    code_postal = forms.CharField(label=_("Code postal du PCE"), max_length=5)
    debut_consentement = DateField(label=_("Début du consentement"))
    fin_consentement = DateField(label=_("Fin du consentement"))
    debut_donnees = DateField(label=_("Début de la plage de données"))
    fin_donnees = DateField(label=_("Fin de la plage de données"))
    types = forms.MultipleChoiceField(
        label=_("Types de données"),
        choices=DataType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    libelle_site = forms.CharField(label=_("Libellé du site"), required=False)
    alias = forms.CharField(label=_("Alias"), required=False)
    denomination_client = forms.CharField(label=_("Dénomination du client"), required=False)

    def raw(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        types = set(data.pop("types", []))
        for data_type in DataType.values:
            data[data_type] = data_type in types
        data["role"] = data.get("role", "").lower()
        return data


class ModifyForm(forms.Form):
    fin_consentement = DateField(label=_("Fin du consentement"))
    debut_donnees = DateField(label=_("Début de la plage de données"))
    fin_donnees = DateField(label=_("Fin de la plage de données"))
    types = forms.MultipleChoiceField(
        label=_("Types de données"),
        choices=DataType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class PeriodForm(forms.Form):
    """The consumption period of a PCE's page (GET): a bad date is shown, the default used."""

    debut = DateField(label=_("Du"), required=False)
    fin = DateField(label=_("Au (exclu)"), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Fichier CSV"))


class ExportForm(forms.Form):
    pces = forms.MultipleChoiceField(label=_("PCE"), widget=forms.CheckboxSelectMultiple)
    types = forms.MultipleChoiceField(
        label=_("Types de données"),
        choices=DataType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    start = DateField(label=_("Du (journée gazière)"))
    end = DateField(label=_("Au (exclu)"))
    format = forms.ChoiceField(
        label=_("Format"), choices=[("csv", "CSV"), ("xlsx", "XLSX")], initial="xlsx"
    )

    def __init__(self, *args: Any, pces: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pces"].choices = [(p, p) for p in pces]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and end <= start:
            self.add_error("end", _("La fin doit suivre le début."))
        return data


class ThresholdForm(forms.Form):
    pce = forms.ChoiceField(label=_("PCE"))
    frequency = forms.ChoiceField(label=_("Fréquence"), choices=ThresholdFrequency.choices)
    value_kwh = forms.FloatField(label=_("Seuil (kWh)"), min_value=0.001)
    notify_before = forms.BooleanField(label=_("Prévenir avant le dépassement"), required=False)
    before_percent = forms.IntegerField(
        label=_("à (% du seuil)"), min_value=1, max_value=99, initial=80
    )
    notify_after = forms.BooleanField(
        label=_("Prévenir après le dépassement"), required=False, initial=True
    )
    emails = forms.CharField(
        label=_("Courriels (un par ligne)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args: Any, pces: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pce"].choices = [(p, p) for p in pces]  # type: ignore[attr-defined]

    def clean_emails(self) -> list[str]:
        emails = [e.strip() for e in self.cleaned_data.get("emails", "").splitlines() if e.strip()]
        validator = forms.EmailField()
        for email in emails:
            validator.clean(email)
        return emails


class SubscriptionForm(forms.Form):
    pce = forms.ChoiceField(label=_("PCE"))
    kind = forms.ChoiceField(label=_("Abonnement"), choices=SubscriptionKind.choices)
    start = DateField(label=_("Début"))
    end = DateField(label=_("Fin (facultative)"), required=False)

    def __init__(self, *args: Any, pces: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["pce"].choices = [(p, p) for p in pces]  # type: ignore[attr-defined]
