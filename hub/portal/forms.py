from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hub.models import MqttBroker
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


class MqttBrokerForm(forms.ModelForm):
    # Write-only: the stored password is never rendered; blank keeps it, the box clears it.
    new_password = forms.CharField(
        label=_("Mot de passe"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Laissez vide pour garder le mot de passe enregistré."),
    )
    clear_password = forms.BooleanField(label=_("Effacer le mot de passe"), required=False)

    class Meta:
        model = MqttBroker
        fields = [
            "enabled",
            "host",
            "port",
            "tls",
            "ca_certificate",
            "username",
            "new_password",
            "clear_password",
            "topic_prefix",
            "discovery_prefix",
            "min_interval_seconds",
        ]
        widgets = {"ca_certificate": forms.Textarea(attrs={"rows": 4})}

    def clean_host(self) -> str:
        host = str(self.cleaned_data["host"]).strip()
        bad = any(c.isspace() for c in host) or "/" in host
        if ":" in host:  # only an IPv6 address has colons; "host:port" does not belong here
            try:
                host = str(ipaddress.ip_address(host.strip("[]")))
            except ValueError:
                bad = True
        if bad or not host:
            raise forms.ValidationError(_("Un nom d'hôte ou une adresse, sans port ni schéma."))
        return host

    def clean_ca_certificate(self) -> str:
        pem = self.cleaned_data.get("ca_certificate", "").strip()
        if pem:
            try:
                ssl.create_default_context(cadata=pem)
            except (ssl.SSLError, ValueError):
                raise forms.ValidationError(_("Certificat PEM illisible.")) from None
        return pem

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password") and data.get("clear_password"):
            self.add_error(
                "clear_password", _("Saisissez un mot de passe ou effacez-le, pas les deux.")
            )
        return data

    def password(self) -> str | None:
        """What ``save_broker`` takes: None keeps the stored password, "" clears it."""
        if self.cleaned_data.get("new_password"):
            return str(self.cleaned_data["new_password"])
        return "" if self.cleaned_data.get("clear_password") else None
