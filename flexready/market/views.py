"""Portal page of the market signals: Ecowatt and the supplier signals, today and three days on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from flexready.market import selectors
from flexready.market.client.supplier import SupplierSignalError
from flexready.market.models import EcowattDay, SupplierFeed
from flexready.market.services.supplier import FeedSpecError, follow_delivery_point, upload_signal
from hub.actors import Actor
from hub.clock import PARIS, local_day_of, local_midnight
from hub.models import MeteringPoint, MeteringPointKind, Role, Site
from hub.portal.access import membership_of, role_required

DAYS = 4
UPLOAD_READ = 2_000_001  # the service's limit, plus one byte to see a larger file
# Ecowatt v5 levels (dvalue 0 to 3) as the portal names them.
LEVEL_LABELS = {
    0: gettext_lazy("décarboné"),
    1: gettext_lazy("normal"),
    2: gettext_lazy("orange"),
    3: gettext_lazy("rouge"),
}


def _now() -> dt.datetime:
    return timezone.now()  # one seam, so tests pin "now"


def _label(instant: dt.datetime) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m %Hh%M")


def _ecowatt_chart(days: list[EcowattDay]) -> dict[str, Any]:
    hours = [h for d in days for h in d.hours.all()]
    return {
        "labels": [_label(h.start) for h in hours],
        "levels": [h.level for h in hours],
    }


@role_required(Role.VIEWER)
def signals(request: HttpRequest) -> HttpResponse:
    organisation = membership_of(request).organisation
    now = _now()
    today = local_day_of(now)
    start = local_midnight(today)
    end = local_midnight(today + dt.timedelta(days=DAYS))
    days = selectors.ecowatt_days(first=today, count=DAYS)
    feeds = list(selectors.feeds_of(organisation))
    # The delivery point shown: the one asked for, if it is one of this organisation's feeds.
    asked = request.GET.get("dp", "")
    feed = next((f for f in feeds if f.metering_point.identifier == asked), None)
    feed = feed or (feeds[0] if feeds else None)
    supplier_chart = None
    if feed is not None:
        held = selectors.held_signal(point=feed.metering_point, start=start, end=end)
        supplier_chart = {
            "labels": [_label(p.at) for p in held.points],
            "price": [p.price_eur_per_kwh for p in held.points],
            "co2": [p.co2_g_per_kwh for p in held.points],
            "power": [p.power_kw for p in held.points],
        }
    return render(
        request,
        "flexready/market/signals.html",
        {
            "organisation": organisation,
            "days": [
                {
                    "day": d.day,
                    "level": d.level,
                    "label": str(LEVEL_LABELS[d.level]),
                    "message": d.message,
                }
                for d in days
            ],
            "alert": selectors.ecowatt_alert(days=days),
            "state": selectors.ecowatt_state(),
            "ecowatt_chart": _ecowatt_chart(days),
            "feeds": feeds,
            "feed": feed,
            "supplier_chart": supplier_chart,
            "may_follow": membership_of(request).allows(Role.OPERATOR),
            "may_upload": membership_of(request).allows(Role.ADMIN),
            "unfollowed": MeteringPoint.objects.filter(
                organisation=organisation, kind=MeteringPointKind.ELEC_PRM
            )
            .exclude(supplier_feeds__organisation=organisation)
            .order_by("identifier"),
        },
    )


FIELD_LABELS = {"delivery_point": "Point de livraison", "session_id": "Session"}


@require_POST
@role_required(Role.OPERATOR)
def follow(request: HttpRequest) -> HttpResponse:
    """Start polling the supplier signal of one of the organisation's PRMs."""
    organisation = membership_of(request).organisation
    delivery_point = request.POST.get("delivery_point", "")
    try:
        feed = follow_delivery_point(
            organisation=organisation,
            delivery_point=delivery_point,
            session_id=request.POST.get("session_id", "") or "default",
        )
    except FeedSpecError as exc:
        label = FIELD_LABELS.get(exc.field, exc.field)
        messages.error(
            request, _("%(field)s refusé : %(reason)s.") % {"field": label, "reason": exc.reason}
        )
        return redirect("flexready_market:signals")
    messages.success(
        request,
        _("Le signal fournisseur du PRM %(prm)s sera relevé.")
        % {"prm": feed.metering_point.identifier},
    )
    return redirect(f"{reverse('flexready_market:signals')}?dp={feed.metering_point.identifier}")


@require_POST
@role_required(Role.ADMIN)
def upload(request: HttpRequest) -> HttpResponse:
    """An organisation admin stores a signal file (Annex 2's format) for one of its feeds."""
    organisation = membership_of(request).organisation
    feed = get_object_or_404(
        SupplierFeed.objects.select_related("metering_point", "organisation"),
        organisation=organisation,
        metering_point__identifier=request.POST.get("delivery_point", ""),
    )
    back = f"{reverse('flexready_market:signals')}?dp={feed.metering_point.identifier}"
    file = request.FILES.get("signal_file")
    if file is None:
        messages.error(request, _("Fichier du signal manquant."))
        return redirect(back)
    try:
        # Read one byte past the limit only: a larger file is refused without reading it all.
        stored = upload_signal(
            feed=feed,
            body=file.read(UPLOAD_READ),
            now=_now(),
            actor=Actor.from_request(request),
        )
    except SupplierSignalError as exc:
        messages.error(
            request,
            _("Signal refusé (%(field)s) : %(reason)s.")
            % {"field": exc.field, "reason": exc.reason},
        )
        return redirect(back)
    messages.success(
        request,
        _("Signal déposé pour le PRM %(prm)s : %(n)s valeurs enregistrées.")
        % {"prm": feed.metering_point.identifier, "n": stored},
    )
    return redirect(back)


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, Any] | None:
    """The site view's signal panel: Ecowatt's day (national) and the supplier signal now."""
    today = local_day_of(now)
    days = selectors.ecowatt_days(first=today, count=1)
    ecowatt = None
    if days:
        day = days[0]
        ecowatt = {
            "level": day.level,
            "label": str(LEVEL_LABELS[day.level]),
            "message": day.message,
        }
    signals = []
    start, end = local_midnight(today), local_midnight(today + dt.timedelta(days=1))
    for feed in selectors.feeds_of(site.organisation).filter(metering_point__in=points):
        held = selectors.held_signal(point=feed.metering_point, start=start, end=end)
        current = next((p for p in reversed(held.points) if p.at <= now), None)
        signals.append({"feed": feed, "current": current, "count": len(held.points)})
    if ecowatt is None and not signals:
        return None
    return {"ecowatt": ecowatt, "signals": signals}
