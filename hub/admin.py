from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from hub import quantities
from hub.actors import Actor
from hub.models import (
    ApiToken,
    AuditEvent,
    Membership,
    MeteringPoint,
    MqttBroker,
    Notification,
    Organisation,
    PollRun,
    ProviderCredential,
    Series,
    Site,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "last_login"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profil", {"fields": ("full_name",)}),
        (
            "Droits",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        response = super().user_change_password(request, id, form_url)
        # Django redirects only once the new password is saved: audit that, and tell the owner.
        if request.method == "POST" and response.status_code == 302:
            from hub.portal.views.passwords import password_changed

            user = self.get_object(request, unquote(id))
            if user is not None:
                password_changed(request, user, how="admin", actor=request.user)  # type: ignore[arg-type]
        return response


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "organisation", "postcode", "city"]
    list_filter = ["organisation"]
    search_fields = ["name", "city"]


@admin.register(MeteringPoint)
class MeteringPointAdmin(admin.ModelAdmin):
    list_display = ["identifier", "kind", "label", "organisation", "site"]
    list_filter = ["kind", "organisation"]
    search_fields = ["identifier", "label"]


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["metering_point", "quantity", "label", "unit", "kind", "step_seconds", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["metering_point__identifier", "quantity"]

    @admin.display(description=_("libellé"))
    def label(self, obj: Series) -> str:
        return quantities.label_of(obj.quantity)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PollRun)
class PollRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "source", "target", "outcome", "items_received", "items_stored"]
    list_filter = ["source", "outcome"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "severity", "source", "title", "organisation", "resolved_at"]
    list_filter = ["severity", "source", "organisation"]
    search_fields = ["title", "dedupe_key"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "actor_label", "organisation", "object_repr", "ip"]
    list_filter = ["action", "organisation"]
    search_fields = ["object_repr", "actor_label", "actor__email"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created where their plaintext can be shown once (portal, command)."""

    list_display = ["name", "prefix", "organisation", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["organisation"]
    readonly_fields = ["prefix", "last_used_at", "last_used_ip", "created_by", "created_at"]
    exclude = ["key_hash", "seen_ips"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class CredentialForm(forms.ModelForm):
    # The stored secret is never rendered; leaving the field empty keeps it.
    secret = forms.CharField(
        label="Secret", required=False, widget=forms.PasswordInput(render_value=False)
    )

    class Meta:
        model = ProviderCredential
        fields = ["organisation", "provider", "label", "client_id"]

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret", "")
        if not secret and not self.instance.pk:
            raise forms.ValidationError("Requis pour un nouvel identifiant.")
        return secret


@admin.register(ProviderCredential)
class ProviderCredentialAdmin(admin.ModelAdmin):
    form = CredentialForm
    list_display = ["label", "provider", "organisation", "client_id", "updated_at"]
    list_filter = ["provider", "organisation"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from hub.services.credentials import save_credential

        save_credential(
            credential=obj,
            secret=form.cleaned_data.get("secret") or None,
            actor=Actor.from_request(request),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from hub.services.credentials import delete_credential

        delete_credential(credential=obj, actor=Actor.from_request(request))


class MqttBrokerForm(forms.ModelForm):
    # The stored password is never rendered; empty keeps it, "clear" removes it.
    new_password = forms.CharField(
        label="Mot de passe", required=False, widget=forms.PasswordInput(render_value=False)
    )
    clear_password = forms.BooleanField(label="Effacer le mot de passe", required=False)

    class Meta:
        model = MqttBroker
        fields = [
            "organisation",
            "enabled",
            "host",
            "port",
            "tls",
            "ca_certificate",
            "username",
            "topic_prefix",
            "discovery_prefix",
            "min_interval_seconds",
        ]


@admin.register(MqttBroker)
class MqttBrokerAdmin(admin.ModelAdmin):
    form = MqttBrokerForm
    list_display = ["organisation", "host", "port", "tls", "enabled", "updated_at"]
    list_filter = ["enabled"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        from hub.services.mqtt_brokers import save_broker

        password = "" if form.cleaned_data.get("clear_password") else None
        password = form.cleaned_data.get("new_password") or password
        save_broker(broker=obj, password=password, actor=Actor.from_request(request))

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from hub.services.mqtt_brokers import delete_broker

        delete_broker(broker=obj, actor=Actor.from_request(request))

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # The list's bulk delete too goes through the audited path.
        for obj in queryset:
            self.delete_model(request, obj)
