"""Access-right alerts POSTed to the organisation's webhooks, signed, retried until acknowledged.

A body is signed like every webhook of the hub (``hub.http.webhooks``):
``X-Hub-Signature: sha256=<hex>``, HMAC-SHA256 of ``<timestamp>.<body>`` with the webhook's
secret, the Unix timestamp in ``X-Hub-Timestamp``. A 2xx answer acknowledges; anything else is
retried by ``tasks.deliver_alert`` with a growing delay, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import partial
from typing import Any

import httpx
from django.db import transaction

from grdf_access.models import AlertDelivery, AlertDeliveryStatus, AlertWebhook
from hub.http import urlsafety
from hub.http import webhooks as outgoing
from hub.models import Notification

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature"
TIMESTAMP_HEADER = "X-Hub-Timestamp"
MAX_ATTEMPTS = 10
FIRST_DELAY = 30  # seconds, doubled at each failure
MAX_DELAY = 3600


def retry_delay(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return int(min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


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
            transaction.on_commit(partial(enqueue, delivery_pk=delivery.pk))
    return created


def enqueue(*, delivery_pk: int) -> None:
    from grdf_access.tasks import deliver_alert  # the tasks module imports the alerts

    try:
        deliver_alert.apply_async(kwargs={"delivery_pk": delivery_pk})
    except Exception:  # broker away: the delivery stays pending, listed in the admin
        logger.warning("grdf: alert delivery %s not queued", delivery_pk)


def attempt(
    *,
    delivery: AlertDelivery,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    resolver: urlsafety.Resolver | None = None,
) -> bool:
    """POST the delivery once; records the outcome and returns whether it was acknowledged.

    The target is checked again after DNS resolution (``hub.http.urlsafety``): a refused
    address counts as a failed attempt.
    """
    return outgoing.attempt_delivery(
        delivery=delivery,
        url=delivery.webhook.url,
        secret=delivery.webhook.secret,
        now=now,
        provider="grdf-alert-webhook",
        signature_header=SIGNATURE_HEADER,
        timestamp_header=TIMESTAMP_HEADER,
        max_attempts=MAX_ATTEMPTS,
        delivered=AlertDeliveryStatus.DELIVERED,
        failed=AlertDeliveryStatus.FAILED,
        transport=transport,
        resolver=resolver,
    )
