"""The organisation's API tokens: list, create (shown once), revoke. Admins only."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.actors import Actor
from hub.models import ApiToken, Role
from hub.portal.access import membership_of, role_required
from hub.portal.forms import TokenForm
from hub.services.tokens import TokenSpecError, create_token, revoke_token

SPEC_MESSAGES = {
    "name": _("Nom refusé : %(reason)s."),
    "scopes": _("Portées refusées : %(reason)s."),
    "allowed_networks": _("Réseau invalide : %(reason)s."),
    "expires_at": _("Date d'expiration refusée : %(reason)s."),
}
REASONS = {
    "required": _("obligatoire"),
    "a token of this organisation already has this name": _(
        "un jeton de l'organisation porte déjà ce nom"
    ),
}


def _spec_error(form: TokenForm, error: TokenSpecError) -> None:
    field = "expires_on" if error.field == "expires_at" else error.field
    template = SPEC_MESSAGES.get(error.field, "%(reason)s")
    message = str(template) % {"reason": REASONS.get(error.reason, error.reason)}
    form.add_error(field if field in form.fields else None, message)


@role_required(Role.ADMIN)
def token_list(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    form = TokenForm(request.POST or None)
    issued = None
    if request.method == "POST" and form.is_valid():
        try:
            issued = create_token(
                organisation=organisation, actor=Actor.from_request(request), **form.spec()
            )
        except TokenSpecError as exc:
            _spec_error(form, exc)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(organisation=organisation).order_by("revoked_at", "name")
    # Rendered, not redirected, after a creation: the plaintext is in this answer and nowhere else.
    return render(
        request,
        "portal/tokens.html",
        {
            "form": form,
            "tokens": tokens,
            "issued": issued,
            "now": timezone.now(),
        },
    )


@require_POST
@role_required(Role.ADMIN)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    organisation = membership_of(request).organisation
    # Scoped by organisation: a foreign token's id answers 404, exactly like a missing one.
    token = get_object_or_404(ApiToken, pk=pk, organisation=organisation)
    revoke_token(token=token, now=timezone.now(), actor=Actor.from_request(request))
    if getattr(request, "htmx", False):
        return render(request, "portal/_token_row.html", {"token": token, "now": timezone.now()})
    messages.success(request, _("Le jeton « %(name)s » est révoqué.") % {"name": token.name})
    return redirect("portal:tokens")
