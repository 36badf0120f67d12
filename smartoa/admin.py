"""Back-office for Smart OA: contracts (token write-only), versions read-only, controller access."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hub.actors import Actor
from hub.webhook_forms import WebhookAdminForm
from smartoa import services
from smartoa.models import (
    Contract,
    ControllerAccess,
    ScheduleVersion,
    StopEpisode,
    WebhookDelivery,
    WebhookEndpoint,
    validate_contacts,
)


class ContractForm(forms.ModelForm):
    # The stored token is never rendered; leaving the field empty keeps it.
    api_token = forms.CharField(
        label=_("Jeton Smart OA"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    contacts_text = forms.CharField(
        label=_("Contacts prévenus par e-mail"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Une adresse par ligne."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["contacts_text"].initial = "\n".join(self.instance.contacts)

    def clean_contacts_text(self) -> list[str]:
        raw: str = self.cleaned_data.get("contacts_text") or ""
        contacts = sorted({line.strip().lower() for line in raw.splitlines() if line.strip()})
        try:
            validate_contacts(contacts)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from None
        self.instance.contacts = contacts
        return contacts

    class Meta:
        model = Contract
        fields = [
            "organisation",
            "contract_id",
            "label",
            "site",
            "metering_point",
            "account_id",
            "auth_scheme",
            "enabled",
            "poll_interval",
        ]

    def clean_api_token(self) -> str:
        token: str = self.cleaned_data.get("api_token", "")
        if not token and not self.instance.pk:
            raise forms.ValidationError(_("Requis pour un nouveau contrat."))
        return token


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractForm
    list_display = [
        "contract_id",
        "label",
        "organisation",
        "auth_scheme",
        "enabled",
        "last_polled_at",
        "last_success_at",
    ]
    list_filter = ["organisation", "enabled", "auth_scheme"]
    search_fields = ["contract_id", "label", "account_id"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.save_contract(
            contract=obj,
            api_token=form.cleaned_data.get("api_token") or None,
            actor=Actor.from_request(request),
        )


class StopEpisodeInline(admin.TabularInline):
    model = StopEpisode
    extra = 0
    can_delete = False
    readonly_fields = ["start", "end"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScheduleVersion)
class ScheduleVersionAdmin(admin.ModelAdmin):
    """Versions are what the API published: shown, never edited."""

    list_display = ["contract", "application_date", "update_date", "fetched_at", "source"]
    list_filter = ["contract__organisation", "source"]
    search_fields = ["contract__contract_id"]
    date_hierarchy = "application_date"
    inlines = [StopEpisodeInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ControllerAccess)
class ControllerAccessAdmin(admin.ModelAdmin):
    list_display = ["token", "contract"]
    list_filter = ["contract__organisation"]
    autocomplete_fields = ["contract"]


class WebhookEndpointForm(WebhookAdminForm):
    class Meta:
        model = WebhookEndpoint
        fields = ["organisation", "url", "contracts", "enabled"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "organisation", "enabled", "created_at"]
    list_filter = ["organisation", "enabled"]
    filter_horizontal = ["contracts"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["endpoint", "version", "status", "attempts", "last_status_code", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
