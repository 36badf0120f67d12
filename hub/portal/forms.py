from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.models.tokens import SCOPE_LABELS
from hub.portal.dates import DateField
from hub.services.tokens import SCOPES


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Adresse e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Le code à 6 chiffres de votre application, ou un code de secours."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolTOTPForm(forms.Form):
    name = forms.CharField(
        label=_("Nom de l'appareil"),
        max_length=64,
        required=False,
        help_text=_("Par exemple « Téléphone professionnel »."),
    )
    code = forms.RegexField(
        label=_("Code à 6 chiffres"),
        regex=r"^\s*\d{3}\s*\d{3}\s*$",
        error_messages={"invalid": _("Saisissez les 6 chiffres affichés par l'application.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


SCOPE_CHOICES = list(SCOPE_LABELS.items())
assert {c for c, _label in SCOPE_CHOICES} == set(SCOPES)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Portées"),
        choices=SCOPE_CHOICES,
        initial=["read"],
        widget=forms.CheckboxSelectMultiple,
    )
    allowed_networks = forms.CharField(
        label=_("Réseaux autorisés"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "203.0.113.0/24"}),
        help_text=_("Une adresse ou un réseau CIDR par ligne ; vide : toutes les adresses."),
    )
    expires_on = DateField(
        label=_("Expire le"),
        required=False,
        help_text=_("Le jeton cesse de fonctionner au début de ce jour (heure de Paris)."),
    )

    def clean_allowed_networks(self) -> list[str]:
        raw = self.cleaned_data.get("allowed_networks") or ""
        return [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]

    def clean_expires_on(self) -> dt.date | None:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError(_("Choisissez une date future."))
        return day

    def expires_at(self) -> dt.datetime | None:
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def spec(self) -> dict[str, Any]:
        return {
            "name": self.cleaned_data["name"].strip(),
            "scopes": self.cleaned_data["scopes"],
            "allowed_networks": self.cleaned_data["allowed_networks"],
            "expires_at": self.expires_at(),
        }
