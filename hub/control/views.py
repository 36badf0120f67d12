"""Portal pages: the sites under control and one site's control page (French labels)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hub.actors import Actor
from hub.control import selectors, services
from hub.models import MeteringPoint, Role, Site
from hub.portal.access import membership_of, role_required
from hub.portal.dates import DateTimeField, DateTimeInput


def _site(request: HttpRequest, pk: int) -> Site:
    # Scoped by organisation: a foreign site's id answers 404, like a missing one.
    return get_object_or_404(
        selectors.sites(organisation=membership_of(request).organisation), pk=pk
    )


@role_required(Role.VIEWER)
def site_list(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    rows = [
        (site, selectors.loads(organisation=organisation).filter(site=site).count())
        for site in selectors.sites(organisation=organisation)
    ]
    return render(request, "control/site_list.html", {"rows": rows})


@role_required(Role.VIEWER)
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    site = _site(request, pk)
    now = timezone.now()
    state = selectors.site_state(site=site, now=now)
    names = {load.pk: load.name for load in state.loads}
    return render(
        request,
        "control/site_detail.html",
        {
            "state": state,
            "names": names,
            "planned": [(names.get(p.load_id, "?"), p) for p in state.planned],
            "dry_run": state.control.dry_run if state.control else True,
            "can_act": membership_of(request).allows(Role.OPERATOR),
            # One hour from now, as the person types it (10/12/2026 14:30, Paris time).
            "end_input": DateTimeInput().render(
                "ends_at",
                timezone.localtime(now + dt.timedelta(hours=1)).replace(second=0, microsecond=0),
                attrs={"required": True},
            ),
        },
    )


@require_POST
@role_required(Role.OPERATOR)
def dry_run(request: HttpRequest, pk: int) -> HttpResponseBase:
    site = _site(request, pk)
    services.set_dry_run(
        site=site,
        dry_run=request.POST.get("dry_run") == "on",
        actor=Actor.from_request(request),
        now=timezone.now(),
    )
    return redirect("control:site", pk=site.pk)


@require_POST
@role_required(Role.OPERATOR)
def override(request: HttpRequest, pk: int) -> HttpResponseBase:
    organisation = membership_of(request).organisation
    load = get_object_or_404(selectors.loads(organisation=organisation), pk=pk)
    try:
        ends_at = DateTimeField().clean(request.POST.get("ends_at", ""))
    except ValidationError as exc:
        messages.error(request, _("Fin : %(reason)s") % {"reason": " ".join(exc.messages)})
        return redirect("control:site", pk=load.site_id)
    try:
        value = float(request.POST.get("value", ""))
    except ValueError:
        messages.error(request, _("Valeur : un nombre est attendu."))
        return redirect("control:site", pk=load.site_id)
    try:
        services.set_override(
            load=load,
            value=value,
            ends_at=ends_at,
            reason=request.POST.get("reason", ""),
            actor=Actor.from_request(request),
            now=timezone.now(),
        )
    except services.InvalidOverride as exc:
        messages.error(request, exc.reason)
    else:
        messages.success(request, _("Forçage de « %(load)s » enregistré.") % {"load": load.name})
    return redirect("control:site", pk=load.site_id)


@require_POST
@role_required(Role.OPERATOR)
def cancel_override(request: HttpRequest, pk: int) -> HttpResponseBase:
    organisation = membership_of(request).organisation
    found = get_object_or_404(
        selectors.overrides(organisation=organisation), pk=pk, cancelled_at__isnull=True
    )
    services.cancel_override(override=found, actor=Actor.from_request(request), now=timezone.now())
    return redirect("control:site", pk=found.load.site_id)


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, object] | None:
    """The site view's control panel: the site's loads, their value and who holds them."""
    loads = list(selectors.loads_of_site(site=site))
    return {"loads": loads} if loads else None
