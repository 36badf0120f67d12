"""Portal pages: BACS and assets with their potentials (operators edit them), the requests with
their lifecycle on a timeline and their realisation chart."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from flexready import program as prog
from flexready import selectors
from flexready.models import AllowedPeriod, Asset, FlexRequest, RequestStatus
from hub.actors import Actor
from hub.models import MeteringPoint, Role, Site
from hub.portal.access import membership_of, role_required
from hub.portal.dates import DateTimeField, DateTimeInput
from hub.services import audit

WEEK_S = 7 * 24 * 3600


class PotentialForm(forms.Form):
    flex_product = forms.CharField(label=gettext_lazy("Produit de flexibilité"), max_length=16)
    # Bounds: the API's (a terawatt at most) and a week for delays and durations; beyond, a
    # value is a typing mistake (and would not fit the columns).
    power_kw = forms.DecimalField(
        label=gettext_lazy("Puissance (kW)"),
        min_value=Decimal("0.001"),
        max_value=Decimal(10) ** 9,
        max_digits=13,
        decimal_places=3,
    )
    mobilisation_delay_s = forms.IntegerField(
        label=gettext_lazy("Délai de mobilisation (s)"), min_value=0, max_value=WEEK_S
    )
    max_duration_s = forms.IntegerField(
        label=gettext_lazy("Durée maximale (s)"), min_value=1, max_value=WEEK_S
    )
    activations_per_day = forms.IntegerField(
        label=gettext_lazy("Activations par jour"), min_value=0, max_value=1000
    )
    periods = forms.CharField(
        label=gettext_lazy("Périodes autorisées (heure de Paris)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "Une période par ligne : « 02/04/2025 12:00 → 02/04/2025 14:00 » (ou « - » entre "
            "les deux). Le jour du retour à l'heure d'hiver, une heure entre 02:00 et 03:00 "
            "porte son décalage (02:30+02:00). Vide : toujours."
        ),
    )

    def clean_periods(self) -> list[tuple[dt.datetime, dt.datetime]]:
        periods = []
        field = DateTimeField()
        for n, line in enumerate(self.cleaned_data["periods"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = _period_parts(line)
            try:
                if len(parts) != 2:
                    raise forms.ValidationError(
                        _("deux dates et heures attendues, séparées par « → »")
                    )
                start, end = field.clean(parts[0]), field.clean(parts[1])
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("Ligne %(n)s : %(reason)s") % {"n": n, "reason": " ".join(exc.messages)}
                ) from exc
            if end <= start:
                raise forms.ValidationError(_("Ligne %(n)s : la fin précède le début.") % {"n": n})
            periods.append((start, end))
        return periods


def _snapshot(asset: Asset) -> dict[str, Any]:
    return {
        "flex_product": asset.flex_product,
        "power_w": str(Decimal(asset.power_w).quantize(Decimal("0.001"))),
        "mobilisation_delay_s": asset.mobilisation_delay_s,
        "max_duration_s": asset.max_duration_s,
        "activations_per_day": asset.activations_per_day,
        "periods": [[p.start.isoformat(), p.end.isoformat()] for p in asset.periods.all()],
    }


def _period_parts(line: str) -> list[str]:
    """A period line's two ends: ``10/12/2026 12:00 → 10/12/2026 14:00`` (or `` - ``), or the
    earlier ISO form ``2026-12-10T12:00 2026-12-10T14:00``."""
    for separator in ("→", " - "):
        if separator in line:
            return [part.strip() for part in line.split(separator)]
    return line.split()


def _local(instant: dt.datetime) -> str:
    """Paris wall time as the period's field shows it (its offset on a clock-change night)."""
    return DateTimeInput().format_value(timezone.localtime(instant)) or ""


@role_required(Role.VIEWER)
def bacs_list(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    bacs = selectors.bacs_of(organisation=membership.organisation)
    recent = selectors.recent_requests(organisation=membership.organisation)
    return render(
        request,
        "flexready/bacs_list.html",
        {
            "bacs_list": bacs,
            "requests": recent,
            "can_edit": membership.allows(Role.OPERATOR),
        },
    )


@role_required(Role.OPERATOR)
def asset_edit(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_of(request)
    # Scoped by organisation: a foreign asset's id answers 404, like a missing one.
    try:
        asset = selectors.asset(organisation=membership.organisation, pk=pk)
    except Asset.DoesNotExist:
        raise Http404 from None
    initial = {
        "flex_product": asset.flex_product,
        "power_kw": asset.power_w / 1000,
        "mobilisation_delay_s": asset.mobilisation_delay_s,
        "max_duration_s": asset.max_duration_s,
        "activations_per_day": asset.activations_per_day,
        "periods": "\n".join(f"{_local(p.start)} → {_local(p.end)}" for p in asset.periods.all()),
    }
    form = PotentialForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        before = _snapshot(asset)
        with transaction.atomic():
            asset.flex_product = data["flex_product"].strip()
            asset.power_w = data["power_kw"] * 1000
            asset.mobilisation_delay_s = data["mobilisation_delay_s"]
            asset.max_duration_s = data["max_duration_s"]
            asset.activations_per_day = data["activations_per_day"]
            asset.save()
            asset.periods.all().delete()
            AllowedPeriod.objects.bulk_create(
                AllowedPeriod(asset=asset, start=s, end=e) for s, e in data["periods"]
            )
            audit.record(
                action="flexready.potential.changed",
                actor=Actor.from_request(request),
                organisation=membership.organisation,
                target=asset,
                before=before,
                after=_snapshot(asset),
            )
        messages.success(request, _("Potentiel de « %(asset)s » enregistré.") % {"asset": asset})
        return redirect("flexready:bacs_list")
    return render(request, "flexready/asset_edit.html", {"asset": asset, "form": form})


def _chart(flex: FlexRequest) -> dict[str, Any] | None:
    result = flex.realisation
    if not result or not result.get("steps"):
        return None

    def values(key: str) -> list[float | None]:
        return [s[key]["value"] if s.get(key) else None for s in result["steps"]]

    return {
        "labels": [s["start"][11:16] for s in result["steps"]],
        "measured": values("measured"),
        "baseline": values("baseline"),
        "requested": values("requested"),
        "delivered": values("delivered"),
    }


@role_required(Role.VIEWER)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    membership = membership_of(request)
    try:
        flex = selectors.request(organisation=membership.organisation, pk=pk)
    except FlexRequest.DoesNotExist:
        raise Http404 from None
    # Each journal action is the lifecycle step reached: shown by its label.
    timeline = []
    for event in selectors.request_timeline(organisation=membership.organisation, flex=flex):
        code = event.action.removeprefix("flexready.request.")
        label = RequestStatus(code).label if code in RequestStatus.values else code
        timeline.append((event, label))
    steps = [prog.ProgramStep.from_json(s) for s in flex.program]
    return render(
        request,
        "flexready/request_detail.html",
        {
            "flex": flex,
            "timeline": timeline,
            "steps": steps,
            "chart": _chart(flex),
        },
    )


def site_panel(
    *, site: Site, points: Sequence[MeteringPoint], now: dt.datetime
) -> dict[str, object] | None:
    """The site view's Flex Ready panel: the site's BACS, their assets and open requests."""
    rows = selectors.bacs_of_points(organisation=site.organisation, points=points, now=now)
    return {"rows": rows} if rows else None
