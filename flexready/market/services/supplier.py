"""The supplier's price/CO2 signal: which delivery points follow it, polling, storing as series.

A delivery point must already be a PRM metering point of the organisation: a feed never
creates one, so that a mistyped PRM cannot bring a phantom point into the organisation's data
(metering points come from the hub's own imports and API).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from flexready.market.client.supplier import (
    SupplierClient,
    SupplierSignal,
    SupplierSignalError,
    parse_signal,
)
from flexready.market.models import FeedStatus, SupplierFeed
from hub import quantities
from hub.actors import NOBODY, Actor
from hub.clock import local_day_of, local_midnight
from hub.http import ProviderError
from hub.identifiers import InvalidIdentifier, normalise
from hub.models import (
    MeteringPoint,
    MeteringPointKind,
    Organisation,
    Quality,
    Series,
    SeriesKind,
)
from hub.services import audit
from hub.services.polling import poll_run
from hub.services.series import Row, ensure_series, upsert_rows

POLL_SOURCE = "flexready-supplier"
SERIES_SOURCE = "flexready-supplier"
# quantity -> unit of the series, in the hub's canonical spelling.
PRICE = quantities.ENERGY_PRICE.name
CO2 = quantities.CO2_INTENSITY.name
POWER = quantities.SIGNAL_POWER.name
QUANTITIES = {
    q.name: q.unit
    for q in (quantities.ENERGY_PRICE, quantities.CO2_INTENSITY, quantities.SIGNAL_POWER)
}
# Today and the next three local days.
HORIZON_DAYS = 4
SESSION_MAX = 100
# An uploaded signal file: a month of quarter-hours with its triplets is well under 1 MB.
UPLOAD_MAX_BYTES = 2_000_000


class FeedSpecError(ValueError):
    """A feed cannot be created as asked; ``field`` names the culprit."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class FeedPollResult:
    delivery_point: str
    status: str  # a FeedStatus value
    received: int = 0
    stored: int = 0
    error: str = ""


def find_prm(*, organisation: Organisation, delivery_point: str) -> MeteringPoint:
    """The organisation's PRM ``delivery_point``; FeedSpecError when malformed or unknown."""
    try:
        identifier = normalise(MeteringPointKind.ELEC_PRM, delivery_point)
    except InvalidIdentifier as exc:
        raise FeedSpecError("delivery_point", exc.reason) from None
    point = MeteringPoint.objects.filter(
        organisation=organisation, kind=MeteringPointKind.ELEC_PRM, identifier=identifier
    ).first()
    if point is None:
        raise FeedSpecError(
            "delivery_point",
            _("no PRM %(identifier)s in this organisation") % {"identifier": identifier},
        )
    return point


def follow_delivery_point(
    *, organisation: Organisation, delivery_point: str, session_id: str = "default"
) -> SupplierFeed:
    """Start polling the supplier signal of one of the organisation's PRMs (idempotent)."""
    point = find_prm(organisation=organisation, delivery_point=delivery_point)
    session_id = session_id.strip()
    if not session_id or len(session_id) > SESSION_MAX or "/" in session_id:
        raise FeedSpecError(
            "session_id",
            _("1 to %(SESSION_MAX)s characters, no '/'") % {"SESSION_MAX": SESSION_MAX},
        )
    try:
        with transaction.atomic():
            feed, created = SupplierFeed.objects.get_or_create(
                organisation=organisation,
                metering_point=point,
                defaults={"session_id": session_id},
            )
    except IntegrityError:  # created meanwhile by another request
        feed = SupplierFeed.objects.get(organisation=organisation, metering_point=point)
        created = False
    if not created and feed.session_id != session_id:
        feed.session_id = session_id
        feed.save(update_fields=["session_id"])
    return feed


def poll_window(*, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``[today 00:00, today + 4 days 00:00)`` in Paris time, as UTC."""
    today = local_day_of(now)
    return local_midnight(today), local_midnight(today + dt.timedelta(days=HORIZON_DAYS))


def series_of(point: MeteringPoint) -> dict[str, Series]:
    return {
        quantity: ensure_series(
            metering_point=point,
            quantity=quantity,
            unit=unit,
            source=SERIES_SOURCE,
            kind=SeriesKind.INSTANT,
        )
        for quantity, unit in QUANTITIES.items()
    }


def store_signal(*, point: MeteringPoint, signal: SupplierSignal) -> int:
    """Upsert the signal's three quantities; returns how many rows were written."""
    series = series_of(point)
    rows: list[Row] = []
    for p in signal.points:
        for quantity, value in (
            (PRICE, p.price_eur_per_kwh),
            (CO2, p.co2_g_per_kwh),
            (POWER, p.power_kw),
        ):
            # Not provisional: a later signal for the same instant replaces this one.
            rows.append((series[quantity].pk, p.at, value, Quality.MEASURED, False))
    return upsert_rows(rows=rows)


def poll_feed(*, feed: SupplierFeed, now: dt.datetime, client: SupplierClient) -> FeedPollResult:
    """Fetch today's and the next three days' signal and store it.

    A failed call or an invalid signal is recorded (poll run and the feed's status) and changes
    no stored value: what the hub held stays what it serves.
    """
    start, end = poll_window(now=now)
    identifier = feed.metering_point.identifier
    status, error, received, stored = FeedStatus.VALID, "", 0, 0
    try:
        with poll_run(
            source=POLL_SOURCE, target=identifier, organisation=feed.organisation, now=now
        ) as run:
            signal = client.fetch(
                session_id=feed.session_id, delivery_point=identifier, start=start, end=end
            )
            received = run.items_received = len(signal.points)
            stored = run.items_stored = store_signal(point=feed.metering_point, signal=signal)
    except SupplierSignalError as exc:
        status, error = FeedStatus.INVALID, str(exc)
    except (ProviderError, httpx.HTTPError) as exc:
        status, error = FeedStatus.FAILED, f"{type(exc).__name__}: {exc}"
    changes: dict[str, object] = {
        "last_polled_at": now,
        "last_status": status,
        "last_error": error[:2000],
        "last_window_start": start,
        "last_window_end": end,
    }
    if status == FeedStatus.VALID:
        changes |= {"last_success_at": now, "last_points": received}
    SupplierFeed.objects.filter(pk=feed.pk).update(**changes)
    return FeedPollResult(identifier, status, received, stored, error)


def upload_signal(
    *,
    feed: SupplierFeed,
    body: bytes,
    now: dt.datetime,
    actor: Actor = NOBODY,
) -> int:
    """Store a signal file for the organisation's own feed, as a poll would; audited.

    Annex 2's "Add Supplier Signal" (``POST /admin/signals``) done in the hub: the file is
    validated as a polled signal is (``SupplierSignalError`` names the field), its values
    replace those held for the same instants. Returns how many rows were written.
    """
    if len(body) > UPLOAD_MAX_BYTES:
        raise SupplierSignalError(
            "signal_file",
            _("at most %(UPLOAD_MAX_BYTES)s bytes") % {"UPLOAD_MAX_BYTES": UPLOAD_MAX_BYTES},
        )
    signal = parse_signal(body)
    if not signal.points:
        raise SupplierSignalError("step", _("no step in the signal"))
    with transaction.atomic():
        stored = store_signal(point=feed.metering_point, signal=signal)
        audit.record(
            action="flexready.supplier_signal.uploaded",
            actor=actor,
            organisation=feed.organisation,
            target=feed,
            after={
                "delivery_point": feed.metering_point.identifier,
                "points": len(signal.points),
                "first": signal.points[0].at.isoformat(),
                "last": signal.points[-1].at.isoformat(),
            },
            at=now,
        )
    return stored
