"""Portal forms of Smart OA (French labels, like the rest of the portal)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hub.clock import local_midnight
from hub.models import MeteringPoint, Organisation, Site
from hub.portal.dates import DATETIME_PLACEHOLDER, DateField, parse_wall_time
from smartoa import manual
from smartoa.client import Schedule
from smartoa.models import MIN_POLL_INTERVAL, AuthScheme

MAX_POLL_INTERVAL = 86_400


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
    expires_on = DateField(label=_("Expire le"), required=False)

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
    day = DateField(label=_("Jour"))


class ContractForm(forms.Form):
    """A contract created or edited in the portal by an admin. The token is write-only."""

    contract_id = forms.CharField(
        label=_("Numéro de contrat OA"),
        max_length=40,
        help_text=_("Tel que l'écrit EDF OA (BOA…) ; il ne change plus ensuite."),
    )
    label = forms.CharField(label=_("Libellé"), max_length=200, required=False)
    account_id = forms.CharField(
        label=_("Identifiant du compte Smart OA"),
        max_length=100,
        required=False,
        help_text=_("Vide : le numéro de contrat (un compte par contrat)."),
    )
    auth_scheme = forms.ChoiceField(
        label=_("Authentification"), choices=AuthScheme.choices, initial=AuthScheme.BEARER
    )
    api_token = forms.CharField(
        label=_("Jeton Smart OA"),
        max_length=2000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Généré par le gestionnaire du contrat sur le portail Smart OA. Jamais réaffiché ; "
            "laisser vide pour conserver le jeton enregistré."
        ),
    )
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    metering_point = forms.ModelChoiceField(
        label=_("Point de comptage de production"),
        queryset=MeteringPoint.objects.none(),
        required=False,
    )
    poll_interval = forms.IntegerField(
        label=_("Intervalle de relève (s)"),
        min_value=MIN_POLL_INTERVAL,
        max_value=MAX_POLL_INTERVAL,
        initial=300,
    )
    enabled = forms.BooleanField(label=_("Relève active"), required=False, initial=True)

    def __init__(self, *args: object, organisation: Organisation, editing: bool, **kwargs: object):
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Only the organisation's own objects can be chosen: another's id is "not a choice".
        self.fields["site"].queryset = Site.objects.filter(organisation=organisation)  # type: ignore[attr-defined]
        self.fields["metering_point"].queryset = MeteringPoint.objects.filter(  # type: ignore[attr-defined]
            organisation=organisation
        ).order_by("identifier")
        self.editing = editing
        if editing:
            del self.fields["contract_id"]

    def clean_api_token(self) -> str:
        token: str = self.cleaned_data.get("api_token") or ""
        if not token and not self.editing:
            raise forms.ValidationError(_("Requis pour un nouveau contrat."))
        return token


class ManualScheduleForm(forms.Form):
    """A day's schedule read on EDF OA's web portal while the API cannot be reached."""

    day = DateField(label=_("Journée"), required=False)
    update_date = forms.CharField(
        label=_("Date de mise à jour affichée par Smart OA"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": DATETIME_PLACEHOLDER, "autocomplete": "off"}),
        help_text=_("JJ/MM/AAAA HH:MM, heure de Paris (ou avec son décalage) ; vide : maintenant."),
    )
    stops = forms.CharField(
        label=_("Arrêts, ou réponse JSON de l'API collée telle quelle"),
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "11:55 - 18:00"}),
        help_text=_(
            "Un arrêt par ligne, heure de Paris (24:00 : minuit suivant). Le jour du retour à "
            "l'heure d'hiver, une heure entre 02:00 et 03:00 porte son décalage (02:30+02:00). "
            "Aucune ligne : aucun arrêt ce jour-là."
        ),
    )

    def schedule(self, *, contract_id: str, now: dt.datetime) -> Schedule:
        """The entered schedule; raises manual.ManualScheduleError naming the field."""
        text = (self.cleaned_data.get("stops") or "").strip()
        if text.startswith("{"):
            return manual.from_json(text, contract_id=contract_id)
        day = self.cleaned_data.get("day")
        if day is None:
            raise manual.ManualScheduleError("day", gettext("Requis, sauf pour une réponse JSON."))
        return manual.from_stops(
            contract_id=contract_id,
            day=day,
            update_date=self._update_date(now),
            stops_text=text,
        )

    def _update_date(self, now: dt.datetime) -> dt.datetime:
        text = (self.cleaned_data.get("update_date") or "").strip()
        if not text:
            return now.replace(microsecond=0)
        parsed = parse_wall_time(text)
        if parsed is None:
            raise manual.ManualScheduleError(
                "update_date", gettext("Date illisible : JJ/MM/AAAA HH:MM attendu.")
            )
        if parsed.tzinfo is not None:
            return parsed.astimezone(dt.UTC)
        return manual.paris_wall_time(parsed, field="update_date")
