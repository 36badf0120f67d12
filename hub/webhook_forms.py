"""The admin form of an app's webhook: an https address and a write-only signing secret."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class WebhookAdminForm(forms.ModelForm):
    """An app's webhook model form: its ``Meta`` names the model and the fields but the secret,
    which is never rendered and is kept when left empty (required for a new webhook)."""

    # An address typed without its scheme is taken as https: a webhook is only ever https.
    url = forms.URLField(label=_("Adresse"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_("Secret de signature"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Laisser vide pour conserver le secret enregistré."),
    )

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data.get("secret", "")
        if not secret and not self.instance.pk:
            raise forms.ValidationError(_("Requis pour un nouveau webhook."))
        return secret

    def save(self, commit: bool = True) -> Any:
        if self.cleaned_data.get("secret"):
            self.instance.secret = self.cleaned_data["secret"]
        return super().save(commit=commit)
