"""GRDF reads: rights tables, a PCE's consumption inside the consent, controls, long estimates.

Every read is scoped by organisation; a PCE or right of another organisation is not found.
Consumption is served only inside what the consent allows (``grdf_access.consent``): a
request outside it raises ``OutsideConsent`` carrying the reason, which the API and the portal
answer with 403.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext

from grdf_access import consent, thresholds
from grdf_access.models import (
    AccessRight,
    DataType,
    Pce,
    ProofStatus,
    Revision,
    RightState,
    Threshold,
)
from grdf_access.sync import FEEDS, SERIES, SOURCE
from hub import metrics
from hub.clock import PARIS, gas_day_bounds, gas_day_of
from hub.models import MeteringPoint, Organisation, Point, Quality, Series
from hub.quantities import label_of


class OutsideConsent(Exception):
    """The data asked for are outside the consent; ``reason`` (French) says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Exception):
    pass


def pces(*, organisation: Organisation) -> QuerySet[Pce]:
    return Pce.objects.filter(organisation=organisation).select_related("metering_point")


def pces_of_points(*, organisation: Organisation, points: Sequence[MeteringPoint]) -> QuerySet[Pce]:
    """The PCEs among ``points``, each with its rights, newest first."""
    return (
        pces(organisation=organisation)
        .filter(metering_point__in=points)
        .prefetch_related(Prefetch("rights", queryset=AccessRight.objects.order_by("-created_at")))
        .order_by("metering_point__identifier")
    )


def pce(*, organisation: Organisation, identifier: str) -> Pce:
    found = (
        pces(organisation=organisation)
        .filter(metering_point__identifier=identifier.replace(" ", "").upper())
        .prefetch_related(Prefetch("rights", queryset=AccessRight.objects.select_related("pce")))
        .first()
    )
    if found is None:
        raise NotFound(identifier)
    return found


def rights(
    *,
    organisation: Organisation,
    state: str = "",
    client: str = "",
    site_label: str = "",
    pce: str = "",
) -> QuerySet[AccessRight]:
    """The rights table with the Espace Client's filters (seed 004)."""
    found = AccessRight.objects.filter(organisation=organisation).select_related(
        "pce__metering_point"
    )
    if state:
        found = found.filter(state=state)
    if client:
        found = found.filter(
            Q(pce__client_name__icontains=client)
            | Q(holder_company__icontains=client)
            | Q(holder_name__icontains=client)
        )
    if site_label:
        found = found.filter(pce__site_label__icontains=site_label)
    if pce:
        found = found.filter(pce__metering_point__identifier__contains=pce.replace(" ", "").upper())
    return found.order_by("-created_at", "-pk")


def right(*, organisation: Organisation, pk: int) -> AccessRight:
    found = (
        AccessRight.objects.filter(organisation=organisation, pk=pk)
        .select_related("pce__metering_point")
        .first()
    )
    if found is None:
        raise NotFound(pk)
    return found


def under_control(*, organisation: Organisation) -> QuerySet[AccessRight]:
    """Rights GRDF is checking (a proof status is set), the nearest deadline first."""
    return (
        AccessRight.objects.filter(organisation=organisation)
        .exclude(proof_status=ProofStatus.NONE)
        .select_related("pce__metering_point")
        .prefetch_related("proofs")
        .order_by("proof_deadline", "pk")
    )


def control_counts(*, organisation: Organisation) -> dict[str, int]:
    controlled = under_control(organisation=organisation)
    return {
        "total": controlled.count(),
        "checking": controlled.filter(proof_status=ProofStatus.CHECKING).count(),
        "awaited": controlled.filter(proof_status=ProofStatus.AWAITED).count(),
    }


@dataclass(frozen=True)
class Bar:
    label: str
    start: dt.date  # first gas day of the bucket
    energy_kwh: float | None
    volume_m3: float | None
    estimated: bool
    missing: bool
    corrected: bool = False  # GRDF replaced a value of the bucket (``Revision``)

    @property
    def quality(self) -> str:
        """The histogram's category of the bar: ``missing`` (a day without a value) before
        ``estimated`` (a day estimated by GRDF) before ``measured``."""
        return "missing" if self.missing else "estimated" if self.estimated else "measured"


STEPS = ("day", "month", "year")


def _bucket(day: dt.date, step: str) -> dt.date:
    if step == "month":
        return day.replace(day=1)
    if step == "year":
        return day.replace(month=1, day=1)
    return day


def _label(day: dt.date, step: str) -> str:
    return {"day": f"{day:%d/%m/%Y}", "month": f"{day:%m/%Y}", "year": f"{day:%Y}"}[step]


def readable_window(*, pce: Pce, data_type: str, today: dt.date) -> consent.Window | None:
    """The gas days of ``data_type`` the PCE's consent lets us show today (None: none)."""
    decision = consent.decide_any(rights=pce.rights.all(), data_type=data_type, today=today)
    return decision.window if decision.allowed else None


def allowed(
    *, pce: Pce, data_type: str, start: dt.date, end: dt.date, today: dt.date
) -> consent.Decision:
    """The consent's word on days ``[start, end)`` of ``data_type``; raises if refused."""
    decision = consent.check_range(
        rights=pce.rights.all(), data_type=data_type, start=start, end=end, today=today
    )
    if not decision.allowed:
        metrics.CONSENT_REFUSALS.labels("grdf", "request_bounds").inc()
        raise OutsideConsent(decision.reason)
    return decision


def consumption(
    *,
    pce: Pce,
    start: dt.date,
    end: dt.date,
    step: str,
    today: dt.date,
    data_type: str = DataType.INFORMATIVE_DAILY,
) -> list[Bar]:
    """Energy and volume per gas day, month or year over gas days ``[start, end)``."""
    if data_type not in FEEDS:
        raise OutsideConsent(gettext("type de données sans consommation"))
    allowed(pce=pce, data_type=data_type, start=start, end=end, today=today)
    keys = FEEDS[data_type]
    quantities = {SERIES[k].quantity: k for k in keys}
    series = {
        quantities[s.quantity]: s.pk
        for s in Series.objects.filter(
            metering_point_id=pce.metering_point_id, source=SOURCE, quantity__in=quantities
        )
    }
    first, _ = gas_day_bounds(start)
    last, _ = gas_day_bounds(end)
    energy_key, volume_key = keys[0], (keys[1] if len(keys) > 1 else "")
    sums: dict[dt.date, dict[str, float]] = defaultdict(dict)
    flags: dict[dt.date, set[str]] = defaultdict(set)
    points = Point.objects.filter(
        series_id__in=[series[k] for k in (energy_key, volume_key) if k in series],
        ts__gte=first,
        ts__lt=last,
    ).values_list("series_id", "ts", "value", "quality")
    key_of = {v: k for k, v in series.items()}
    for series_id, ts, value, quality in points:
        bucket = _bucket(gas_day_of(ts), step)
        key = key_of[series_id]
        if value is not None:
            sums[bucket][key] = sums[bucket].get(key, 0.0) + value
        if quality == Quality.ESTIMATED:
            flags[bucket].add("estimated")
        if quality == Quality.MISSING:
            flags[bucket].add("missing")
    corrected = Revision.objects.filter(
        pce=pce, series_id__in=list(series.values()), ts__gte=first, ts__lt=last
    ).values_list("ts", flat=True)
    for ts in corrected:
        flags[_bucket(gas_day_of(ts), step)].add("corrected")
    bars = []
    for bucket in sorted(set(sums) | set(flags)):
        bars.append(
            Bar(
                label=_label(bucket, step),
                start=bucket,
                energy_kwh=sums[bucket].get(energy_key),
                volume_m3=sums[bucket].get(volume_key) if volume_key else None,
                estimated="estimated" in flags[bucket],
                missing="missing" in flags[bucket],
                corrected="corrected" in flags[bucket],
            )
        )
    return bars


@dataclass(frozen=True)
class RawPoint:
    data_type: str
    quantity: str
    unit: str
    start: dt.datetime
    gas_day: dt.date
    value: float | None
    quality: str
    provisional: bool


def raw_points(
    *, pce: Pce, data_types: list[str], start: dt.date, end: dt.date, today: dt.date
) -> list[RawPoint]:
    """Every stored point of the types, checked against the consent type by type."""
    for data_type in data_types:
        if data_type in FEEDS:
            allowed(pce=pce, data_type=data_type, start=start, end=end, today=today)
    keys = [k for t in data_types if t in FEEDS for k in FEEDS[t]]
    quantities = {SERIES[k].quantity: k for k in keys}
    series = list(
        Series.objects.filter(
            metering_point_id=pce.metering_point_id, source=SOURCE, quantity__in=quantities
        )
    )
    by_id = {s.pk: s for s in series}
    first, _ = gas_day_bounds(start)
    last, _ = gas_day_bounds(end)
    rows = []
    for series_id, ts, value, quality, provisional in (
        Point.objects.filter(series_id__in=by_id, ts__gte=first, ts__lt=last)
        .order_by("ts", "series_id")
        .values_list("series_id", "ts", "value", "quality", "provisional")
    ):
        s = by_id[series_id]
        key = quantities[s.quantity]
        data_type = next(t for t, ks in FEEDS.items() if key in ks)
        rows.append(
            RawPoint(
                data_type=data_type,
                quantity=s.quantity,
                unit=s.unit,
                start=ts.astimezone(PARIS),
                gas_day=gas_day_of(ts),
                value=value,
                quality=str(Quality(quality).label),
                provisional=provisional,
            )
        )
    return rows


@dataclass(frozen=True)
class RevisionRow:
    data_type: str
    quantity: str
    unit: str
    start: dt.datetime  # Paris time
    gas_day: dt.date
    previous_value: float | None
    previous_quality: str
    value: float | None
    quality: str
    replaced_at: dt.datetime

    @property
    def label(self) -> str:
        """The quantity as the portal names it (French)."""
        return label_of(self.quantity)


def revisions(
    *, pce: Pce, today: dt.date, start: dt.date | None = None, end: dt.date | None = None
) -> list[RevisionRow]:
    """Definitive values GRDF corrected, for the days and types the consent lets us show."""
    rows: list[RevisionRow] = []
    for data_type, keys in FEEDS.items():
        window = readable_window(pce=pce, data_type=data_type, today=today)
        if window is None:
            continue
        first = max(window.start, start) if start else window.start
        last = min(window.end, end) if end else window.end
        if first >= last:
            continue
        quantities = [SERIES[k].quantity for k in keys]
        found = (
            Revision.objects.filter(
                pce=pce,
                series__quantity__in=quantities,
                series__source=SOURCE,
                ts__gte=gas_day_bounds(first)[0],
                ts__lt=gas_day_bounds(last)[0],
            )
            .select_related("series")
            .order_by("-replaced_at", "ts")
        )
        rows.extend(
            RevisionRow(
                data_type=data_type,
                quantity=r.series.quantity,
                unit=r.series.unit,
                start=r.ts.astimezone(PARIS),
                gas_day=gas_day_of(r.ts),
                previous_value=r.previous_value,
                previous_quality=str(Quality(r.previous_quality).label),
                value=r.value,
                quality=str(Quality(r.quality).label),
                replaced_at=r.replaced_at,
            )
            for r in found
        )
    return sorted(rows, key=lambda r: (r.replaced_at, r.start), reverse=True)


@dataclass(frozen=True)
class LongEstimate:
    pce: Pce
    last_measured: dt.date | None
    months_estimated: int | None
    consecutive_estimated: int


def long_estimated(
    *, organisation: Organisation, today: dt.date, months: int = 12, cycles: int = 3
) -> list[LongEstimate]:
    """PCEs whose published readings are estimated for ``months`` or more, or whose last
    ``cycles`` published cycles in a row were estimated (seed 000, "estimés de plus de 12
    mois", "index cycliques estimés 3 fois et plus consécutivement")."""
    quantity = SERIES["published_energy"].quantity
    series = {
        s.metering_point_id: s.pk
        for s in Series.objects.filter(
            metering_point__organisation=organisation, source=SOURCE, quantity=quantity
        )
    }
    found = []
    candidates = (
        pces(organisation=organisation)
        .filter(metering_point_id__in=series)
        .prefetch_related(Prefetch("rights", queryset=AccessRight.objects.select_related("pce")))
    )
    for item in candidates:
        # Only readings the consent still lets us show: an active right, its days.
        window = readable_window(pce=item, data_type=DataType.PUBLISHED, today=today)
        if window is None:
            continue
        first, _ = gas_day_bounds(window.start)
        last, _ = gas_day_bounds(window.end)
        readings = list(
            Point.objects.filter(
                series_id=series[item.metering_point_id], ts__gte=first, ts__lt=last
            )
            .order_by("-ts")
            .values_list("ts", "quality")
        )
        consecutive = 0
        for _ts, quality in readings:
            if quality != Quality.ESTIMATED:
                break
            consecutive += 1
        measured = next((ts for ts, q in readings if q == Quality.MEASURED), None)
        last_measured = gas_day_of(measured) if measured else None
        span = None
        if readings and consecutive:
            since = last_measured or gas_day_of(readings[-1][0])
            span = (today.year - since.year) * 12 + today.month - since.month
        if consecutive >= cycles or (span is not None and span >= months):
            found.append(LongEstimate(item, last_measured, span, consecutive))
    return found


def rights_summary(*, organisation: Organisation) -> dict[str, int]:
    counts = {s.value: 0 for s in RightState}
    for state in AccessRight.objects.filter(organisation=organisation).values_list(
        "state", flat=True
    ):
        counts[state] += 1
    return counts


@dataclass(frozen=True)
class ThresholdState:
    """Where one threshold stands: ``over``, ``near``, ``ok``, ``no_data`` or ``disabled``."""

    threshold: Threshold
    check: thresholds.Check | None

    @property
    def state(self) -> str:
        if not self.threshold.enabled:
            return "disabled"
        return self.check.state if self.check is not None else "no_data"


def threshold_states(
    *, organisation: Organisation, today: dt.date, pce: Pce | None = None
) -> list[ThresholdState]:
    """Every threshold of the organisation (or of one PCE) and where it stands for the period of
    the latest gas day stored: the one reading the thresholds page, the PCE's page and the
    dashboard all show, so they agree."""
    found = Threshold.objects.filter(organisation=organisation)
    if pce is not None:
        found = found.filter(pce=pce)
    found = (
        found.select_related("pce__metering_point")
        .prefetch_related("pce__rights__pce")
        .order_by("pce__metering_point__identifier", "frequency", "pk")
    )
    return [
        ThresholdState(t, thresholds.check(t, today=today) if t.enabled else None) for t in found
    ]
