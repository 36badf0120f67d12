"""Portal forms of Smart OA (French labels, like the rest of the portal)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from hub.clock import local_midnight
from smartoa.models import AuthScheme


def _lines(raw: str) -> list[str]:
    return [
        part.strip()
        for part in raw.replace(",", "\n").replace(";", "\n").splitlines()
        if part.strip()
    ]


class CredentialsForm(forms.Form):
    """The contract's Smart OA account and token. The token is write-only: never rendered."""

    account_id = forms.CharField(label=_("Identifiant du compte Smart OA"), max_length=100)
    auth_scheme = forms.ChoiceField(label=_("Authentification"), choices=AuthScheme.choices)
    api_token = forms.CharField(
        label=_("Nouveau jeton Smart OA"),
        max_length=2000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Le jeton enregistré n'est jamais réaffiché."),
    )


class ContactsForm(forms.Form):
    contacts = forms.CharField(
        label=_("Contacts prévenus par e-mail"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "exploitation@exemple.fr"}),
        help_text=_("Une adresse par ligne."),
    )

    def clean_contacts(self) -> list[str]:
        return _lines(self.cleaned_data.get("contacts") or "")


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("Adresse du webhook"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("Secret de signature"),
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Laisser vide pour conserver le secret enregistré."),
    )
    enabled = forms.BooleanField(label=_("Actif"), required=False, initial=True)


class ControllerTokenForm(forms.Form):
    name = forms.CharField(label=_("Nom du jeton"), max_length=100)
    allowed_networks = forms.CharField(
        label=_("Réseaux autorisés"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "203.0.113.0/24"}),
        help_text=_("Une adresse ou un réseau CIDR par ligne : l'adresse de l'automate."),
    )
    expires_on = forms.DateField(
        label=_("Expire le"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_allowed_networks(self) -> list[str]:
        networks = _lines(self.cleaned_data.get("allowed_networks") or "")
        if not networks:
            raise forms.ValidationError(_("Au moins un réseau est requis."))
        return networks

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        return None if day is None else local_midnight(day)


class LoadCurveForm(forms.Form):
    file = forms.FileField(
        label=_("Courbe de charge (CSV)"),
        help_text=_("début;énergie_kwh — un pas de 5 minutes par ligne."),
    )


class DayForm(forms.Form):
    day = forms.DateField(label=_("Jour"), input_formats=["%Y-%m-%d"])
