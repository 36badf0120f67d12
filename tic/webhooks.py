"""Telling a plant controller of a TIC event at once: signed webhooks, retried until acknowledged.

Each body is signed with the webhook's secret: ``X-TIC-Signature: sha256=<hex>`` is HMAC-SHA256
over ``<timestamp>.<body>``, the timestamp (Unix seconds) in ``X-TIC-Timestamp``, so a receiver
can refuse replays. A 2xx answer acknowledges; anything else is retried with a growing delay,
up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt

import httpx
from django.db.models import Q

from hub.http import urlsafety
from hub.http import webhooks as outgoing
from tic.models import DeliveryStatus, TicEvent, TicMeter, TicWebhook, TicWebhookDelivery

SIGNATURE_HEADER = "X-TIC-Signature"
TIMESTAMP_HEADER = "X-TIC-Timestamp"
MAX_ATTEMPTS = 10
FIRST_DELAY = 10  # seconds, doubled at each failure: a PREAVIS is urgent
MAX_DELAY = 1800


def retry_delay(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return int(min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


def payload_for(*, event: TicEvent, meter: TicMeter) -> dict[str, object]:
    return {
        "event": f"tic.{event.kind}",
        "meter": meter.identifier,
        "metering_point_id": meter.metering_point_id,
        "at": event.at.isoformat(),
        "value": event.value,
        "subscribed_power": meter.subscribed_power,
        "power_unit": meter.power_unit,
        "tariff_periods": meter.tariff_periods,
    }


def create_deliveries(*, event: TicEvent, meter: TicMeter) -> list[TicWebhookDelivery]:
    """One pending delivery per enabled webhook listening to the event's meter."""
    hooks = TicWebhook.objects.filter(organisation_id=meter.organisation_id, enabled=True).filter(
        Q(meter=meter) | Q(meter__isnull=True)
    )
    payload = payload_for(event=event, meter=meter)
    return [
        TicWebhookDelivery.objects.get_or_create(
            webhook=hook, event=event, defaults={"payload": payload}
        )[0]
        for hook in hooks
    ]


def attempt(
    *,
    delivery: TicWebhookDelivery,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    resolver: urlsafety.Resolver | None = None,
) -> bool:
    """POST the delivery once; records the outcome and returns whether it was acknowledged."""
    return outgoing.attempt_delivery(
        delivery=delivery,
        url=delivery.webhook.url,
        secret=delivery.webhook.secret,
        now=now,
        provider="tic-webhook",
        signature_header=SIGNATURE_HEADER,
        timestamp_header=TIMESTAMP_HEADER,
        max_attempts=MAX_ATTEMPTS,
        delivered=DeliveryStatus.DELIVERED,
        failed=DeliveryStatus.FAILED,
        transport=transport,
        resolver=resolver,
    )
