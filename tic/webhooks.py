"""Telling a plant controller of a TIC event at once: what is sent, and to which webhooks.

Sending, signing, retries and re-sending are the hub's (``hub.services.webhooks``). Each body
is signed with the webhook's secret: ``X-TIC-Signature: sha256=<hex>`` is HMAC-SHA256 over
``<timestamp>.<body>``, the timestamp (Unix seconds) in ``X-TIC-Timestamp``, so a receiver can
refuse replays. A 2xx answer acknowledges.
"""

from __future__ import annotations

from django.db.models import Q

from hub.services import webhooks as deliveries
from tic.models import TicEvent, TicMeter, TicWebhook, TicWebhookDelivery

CHANNEL = deliveries.Channel(
    "tic.event", TicWebhookDelivery, header_prefix="X-TIC", provider="tic-webhook"
)
SIGNATURE_HEADER, TIMESTAMP_HEADER = CHANNEL.signature_header, CHANNEL.timestamp_header


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
