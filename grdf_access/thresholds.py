"""Consumption thresholds: notify before or after a daily, monthly or yearly kWh threshold.

Like the Espace Client's "seuils" (seed 004, "Maîtrise de consommation"; reference §2.3:
``notifierAvantSeuil`` / ``notifierApresSeuil``, by e-mail). Consumption is the daily energy
series (gas days), summed over the period that holds the latest gas day stored. Each period's
crossing is notified once (the notification's dedupe key names the period).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Max, Sum
from django.utils.translation import gettext as _

from grdf_access import consent
from grdf_access.models import DataType, Pce, Threshold, ThresholdFrequency
from hub import quantities
from hub.actors import NOBODY, Actor
from hub.clock import gas_day_bounds, gas_day_of
from hub.models import Organisation, Point, Quality, Series, Severity
from hub.services import audit
from hub.services.notifications import notify, resolve_outdated

DAILY_QUANTITY = quantities.GAS_ENERGY_DAILY.name


class ThresholdError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def period_of(frequency: str, gas_day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The gas days ``[first, last)`` of the period holding ``gas_day``, and its label."""
    if frequency == ThresholdFrequency.DAILY:
        return gas_day, gas_day + dt.timedelta(days=1), f"{gas_day:%d/%m/%Y}"
    if frequency == ThresholdFrequency.MONTHLY:
        first = gas_day.replace(day=1)
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        return first, nxt, f"{first:%m/%Y}"
    first = gas_day.replace(month=1, day=1)
    return first, first.replace(year=first.year + 1), f"{first:%Y}"


def consumption(*, series_id: int, first: dt.date, last: dt.date) -> float:
    start, _ = gas_day_bounds(first)
    end, _ = gas_day_bounds(last)
    total = (
        Point.objects.filter(series_id=series_id, ts__gte=start, ts__lt=end)
        .exclude(quality=Quality.MISSING)
        .aggregate(total=Sum("value"))["total"]
    )
    return float(total or 0.0)


@dataclass(frozen=True)
class Check:
    threshold: Threshold
    period: str
    total: float
    state: str  # "ok", "near" or "over"


def check(threshold: Threshold, *, today: dt.date) -> Check | None:
    """Where the threshold stands for the period of the latest gas day stored (None: no data).

    Only days the consent lets us read count (informative daily data, within the right's
    range): a revoked or expired right, or a range that excludes them, gives None.
    """
    decision = consent.decide_any(
        rights=threshold.pce.rights.all(), data_type=DataType.INFORMATIVE_DAILY, today=today
    )
    if not decision.allowed or decision.window is None:
        return None
    window = decision.window
    series = Series.objects.filter(
        metering_point_id=threshold.pce.metering_point_id, quantity=DAILY_QUANTITY
    ).first()
    if series is None:
        return None
    latest = Point.objects.filter(
        series=series,
        ts__gte=gas_day_bounds(window.start)[0],
        ts__lt=gas_day_bounds(window.end)[0],
    ).aggregate(latest=Max("ts"))["latest"]
    if latest is None:
        return None
    first, last, label = period_of(threshold.frequency, gas_day_of(latest))
    first, last = max(first, window.start), min(last, window.end)
    total = consumption(series_id=series.pk, first=first, last=last)
    if total > threshold.value_kwh:
        state = "over"
    elif total >= threshold.value_kwh * threshold.before_percent / 100:
        state = "near"
    else:
        state = "ok"
    return Check(threshold, label, total, state)


def evaluate(
    *, organisation: Organisation, pce_ids: Iterable[int], now: dt.datetime, today: dt.date
) -> list[Check]:
    """Check the thresholds of ``pce_ids`` and notify the crossings."""
    ids = set(pce_ids)
    if not ids:
        return []
    checks = []
    thresholds = (
        Threshold.objects.filter(organisation=organisation, pce_id__in=ids, enabled=True)
        .select_related("pce__metering_point")
        .prefetch_related("pce__rights__pce")
    )
    for threshold in thresholds:
        result = check(threshold, today=today)
        key = _notify(result, organisation=organisation, now=now) if result is not None else None
        # An alert whose condition no longer holds (data corrected under the threshold, a new
        # period begun) is closed: the dashboard never says more than the thresholds page.
        resolve_outdated(
            organisation=organisation,
            source="grdf",
            prefix=f"threshold:{threshold.pk}:",
            current=[key] if key else [],
            now=now,
        )
        if result is not None:
            checks.append(result)
    return checks


def _notify(result: Check, *, organisation: Organisation, now: dt.datetime) -> str | None:
    """Raise the alert the check calls for; its key, or None when it calls for none."""
    threshold = result.threshold
    frequency = threshold.get_frequency_display()
    pce = threshold.pce.identifier
    if result.state == "over" and threshold.notify_after:
        title = f"Seuil {frequency} dépassé pour le PCE {pce} ({result.period})"
        kind = "threshold_exceeded"
    elif result.state in ("near", "over") and threshold.notify_before:
        title = (
            f"Seuil {frequency} bientôt atteint pour le PCE {pce} ({result.period}) : "
            f"{threshold.before_percent} %"
        )
        kind = "threshold_near"
    else:
        return None
    key = f"threshold:{threshold.pk}:{kind}:{result.period}"
    notify(
        organisation=organisation,
        source="grdf",
        kind=kind,
        title=title,
        body=(
            f"Consommation {result.total:.0f} kWh pour un seuil de {threshold.value_kwh:g} kWh "
            f"({result.period})."
        ),
        severity=Severity.WARNING,
        dedupe_key=key,
        link=f"/grdf/pce/{pce}/",
        emails=threshold.email_list,
        now=now,
    )
    return key


def _public(threshold: Threshold) -> dict[str, Any]:
    return {
        "pce": threshold.pce.identifier,
        "frequency": threshold.frequency,
        "value_kwh": threshold.value_kwh,
        "notify_before": threshold.notify_before,
        "before_percent": threshold.before_percent,
        "notify_after": threshold.notify_after,
        "emails": threshold.email_list,
        "enabled": threshold.enabled,
    }


def save_threshold(
    *,
    organisation: Organisation,
    pce: Pce,
    frequency: str,
    value_kwh: float,
    notify_before: bool,
    before_percent: int,
    notify_after: bool,
    emails: Iterable[str],
    actor: Actor = NOBODY,
    now: dt.datetime,
) -> Threshold:
    if pce.organisation_id != organisation.pk:
        raise ThresholdError("pce", _("PCE inconnu"))
    if frequency not in ThresholdFrequency.values:
        raise ThresholdError(
            "frequency", _("une de %(values)s") % {"values": ThresholdFrequency.values}
        )
    if not (math.isfinite(value_kwh) and value_kwh > 0):
        raise ThresholdError("value_kwh", _("doit être un nombre positif"))
    if not 1 <= before_percent <= 99:
        raise ThresholdError("before_percent", _("entre 1 et 99"))
    emails = [e.strip() for e in emails if e.strip()]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError:
            raise ThresholdError(
                "emails", _("courriel invalide « %(email)s »") % {"email": email}
            ) from None
    if not (notify_before or notify_after):
        raise ThresholdError("notify_after", _("choisir avant et/ou après le dépassement"))
    with transaction.atomic():
        threshold = Threshold.objects.create(
            organisation=organisation,
            pce=pce,
            frequency=frequency,
            value_kwh=value_kwh,
            notify_before=notify_before,
            before_percent=before_percent,
            notify_after=notify_after,
            emails="\n".join(emails),
        )
        audit.record(
            action="grdf.threshold.created",
            actor=actor,
            organisation=organisation,
            target=threshold,
            after=_public(threshold),
            at=now,
        )
    return threshold


def delete_threshold(*, threshold: Threshold, actor: Actor = NOBODY, now: dt.datetime) -> None:
    with transaction.atomic():
        audit.record(
            action="grdf.threshold.deleted",
            actor=actor,
            organisation=threshold.organisation,
            target=threshold,
            before=_public(threshold),
            at=now,
        )
        threshold.delete()
