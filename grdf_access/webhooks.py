"""Access-right alerts POSTed to the organisation's webhooks: what is sent, and to whom.

Sending, signing, retries and re-sending are the hub's (``hub.services.webhooks``): a body is
signed with the webhook's secret, ``X-Hub-Signature: sha256=<hex>`` being HMAC-SHA256 of
``<timestamp>.<body>``, the Unix timestamp in ``X-Hub-Timestamp``; a 2xx answer acknowledges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from grdf_access.models import AlertDelivery, AlertWebhook
from hub.models import Notification
from hub.services import webhooks as deliveries

CHANNEL = deliveries.Channel(
    "grdf_access.alert", AlertDelivery, header_prefix="X-Hub", provider="grdf-alert-webhook"
)
SIGNATURE_HEADER, TIMESTAMP_HEADER = CHANNEL.signature_header, CHANNEL.timestamp_header


def payload_for(notification: Notification, *, pce: str) -> dict[str, Any]:
    return {
        "event": f"grdf.alert.{notification.kind}",
        "alert_id": notification.pk,
        "kind": notification.kind,
        "severity": notification.severity,
        "pce": pce,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "raised_at": notification.created_at.astimezone(dt.UTC).isoformat(),
    }


def queue(*, notification: Notification, pce: str, now: dt.datetime) -> list[AlertDelivery]:
    """One delivery per enabled webhook of the alert's organisation, sent once committed.

    A repeat of an open alert has its delivery already: nothing new is queued.
    """
    hooks = AlertWebhook.objects.filter(organisation_id=notification.organisation_id, enabled=True)
    created = []
    for hook in hooks:
        delivery, new = AlertDelivery.objects.get_or_create(
            webhook=hook,
            notification=notification,
            defaults={"payload": payload_for(notification, pce=pce), "created_at": now},
        )
        if new:
            created.append(delivery)
    deliveries.enqueue(deliveries=created)
    return created
