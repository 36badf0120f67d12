"""Signed webhook deliveries: one queue, retry and re-send policy for every app's deliveries.

An app registers a ``Channel`` (its delivery model, headers and provider label) from its
``ready()``; it creates delivery rows and hands them to ``enqueue``. From there the policy is
the same for every app:

* a delivery is queued once the transaction that made it commits (``hub.tasks.deliver_webhook``);
  a broker that cannot be reached leaves it pending;
* an attempt first claims the row (pending and due), so two workers never POST it at once;
* a 2xx answer acknowledges it; anything else schedules the next attempt after ``retry_delay``
  (``next_attempt_at``), up to ``MAX_ATTEMPTS``, then the delivery is given up (failed);
* beat's ``sweep`` re-queues every pending delivery overdue by ``SWEEP_GRACE_SECONDS``: those never
  queued (broker away), those whose retry was lost, those of a worker that died mid-attempt.

A receiver may therefore see a body twice (at least once, never concurrently): it should
treat a repeat of the same body as already handled.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

import httpx
from django.db import transaction
from django.db.models import Q

from hub.http import urlsafety
from hub.http import webhooks as outgoing
from hub.models.webhooks import AbstractWebhookDelivery, DeliveryStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_DELAY = 10  # seconds, doubled at each failure: some events (a PREAVIS) are urgent
MAX_DELAY = 3600  # so the 12 attempts span about 3 h 25 min
SWEEP_GRACE_SECONDS = 120  # a due delivery is left this long to its own retry
CLAIM_SECONDS = 300  # an attempt under way is not re-sent before this (longer than a POST)
SWEEP_BATCH = 500


class UnknownChannel(LookupError):
    """No channel is registered under this name or for this model."""


@dataclass(frozen=True)
class Channel:
    """An app's kind of delivery: its model and the names its receivers see."""

    name: str
    model: type[AbstractWebhookDelivery]
    header_prefix: str  # "X-TIC": the signature in X-TIC-Signature, the time in X-TIC-Timestamp
    provider: str  # the outgoing-HTTP label (logs, metrics)

    @property
    def signature_header(self) -> str:
        return f"{self.header_prefix}-Signature"

    @property
    def timestamp_header(self) -> str:
        return f"{self.header_prefix}-Timestamp"


@dataclass(frozen=True)
class Outcome:
    status: str  # "delivered", "failed", "retry" or "skipped" (not pending, or not due)
    retry_in: int | None = None  # seconds, with "retry"


_channels: dict[str, Channel] = {}


def register(channel: Channel) -> None:
    """Called from an app's ``ready()``; registering the same channel again is harmless."""
    known = _channels.get(channel.name)
    if known is not None and known != channel:
        raise ValueError(f"webhook channel {channel.name!r} is already registered differently")
    _channels[channel.name] = channel


def channels() -> list[Channel]:
    return sorted(_channels.values(), key=lambda c: c.name)


def channel_named(name: str) -> Channel:
    try:
        return _channels[name]
    except KeyError:
        raise UnknownChannel(name) from None


def channel_for(model: type[AbstractWebhookDelivery]) -> Channel:
    for channel in _channels.values():
        if channel.model is model:
            return channel
    raise UnknownChannel(model._meta.label)


def retry_delay(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return int(min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


def _due(now: dt.datetime) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def attempt(
    *,
    delivery: AbstractWebhookDelivery,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    resolver: urlsafety.Resolver | None = None,
) -> bool:
    """POST the delivery once, signed, and record the outcome on its row (the next attempt's
    time while it stays pending); returns whether it was acknowledged.

    The target is checked again after DNS resolution and the request goes to the checked
    address (``hub.http.urlsafety``): a refused address counts as a failed attempt.
    """
    channel = channel_for(type(delivery))
    endpoint = delivery.endpoint_row()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    outcome = outgoing.post_signed(
        url=endpoint.url,
        secret=endpoint.secret,
        payload=delivery.payload,
        now=now,
        provider=channel.provider,
        signature_header=channel.signature_header,
        timestamp_header=channel.timestamp_header,
        transport=transport,
        resolver=resolver,
    )
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.next_attempt_at = None
    if outcome.acknowledged:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    else:
        delivery.next_attempt_at = now + dt.timedelta(seconds=retry_delay(delivery.attempts))
    delivery.save()
    return outcome.acknowledged


def deliver(
    *,
    channel: str,
    delivery_pk: int,
    now: dt.datetime,
    transport: httpx.BaseTransport | None = None,
    resolver: urlsafety.Resolver | None = None,
) -> Outcome:
    """Claim the delivery if it is pending and due, and POST it once."""
    found = channel_named(channel)
    rows = found.model._default_manager.filter(pk=delivery_pk, status=DeliveryStatus.PENDING)
    # The claim: a second worker (a sweep racing a retry) finds the row not due and skips it.
    if not rows.filter(_due(now)).update(next_attempt_at=now + dt.timedelta(seconds=CLAIM_SECONDS)):
        return Outcome("skipped")
    delivery = rows.select_related(found.model.endpoint_field).get()
    if attempt(delivery=delivery, now=now, transport=transport, resolver=resolver):
        return Outcome("delivered")
    if delivery.status == DeliveryStatus.FAILED:
        return Outcome("failed")
    return Outcome("retry", retry_delay(delivery.attempts))


def enqueue(*, deliveries: Sequence[AbstractWebhookDelivery]) -> None:
    """Queue the deliveries once the current transaction commits (at once outside one)."""
    by_channel: dict[str, list[int]] = {}
    for delivery in deliveries:
        by_channel.setdefault(channel_for(type(delivery)).name, []).append(delivery.pk)
    for name, pks in by_channel.items():
        transaction.on_commit(partial(queue_now, channel=name, delivery_pks=pks))


def queue_now(*, channel: str, delivery_pks: Iterable[int]) -> int:
    """Hand each delivery to the task queue; returns how many were queued. A broker away is
    logged, not raised: the delivery stays pending and the sweep sends it later."""
    from hub.tasks import deliver_webhook  # the tasks module imports this one

    queued = 0
    for pk in delivery_pks:
        try:
            deliver_webhook.apply_async(kwargs={"channel": channel, "delivery_pk": pk})
        except Exception:  # any broker failure: the row is the record, the sweep the remedy
            logger.warning(
                "%s: webhook delivery %s not queued; the sweep will send it", channel, pk
            )
        else:
            queued += 1
    return queued


def overdue(*, channel: Channel, now: dt.datetime, limit: int = SWEEP_BATCH) -> list[int]:
    """Pending deliveries due for longer than the grace: their own queueing did not happen."""
    cutoff = now - dt.timedelta(seconds=SWEEP_GRACE_SECONDS)
    return list(
        channel.model._default_manager.filter(status=DeliveryStatus.PENDING)
        .filter(
            Q(next_attempt_at__isnull=True, created_at__lte=cutoff) | Q(next_attempt_at__lte=cutoff)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def sweep(*, now: dt.datetime) -> int:
    """Re-queue the overdue pending deliveries of every channel; returns how many were queued."""
    return sum(
        queue_now(channel=channel.name, delivery_pks=overdue(channel=channel, now=now))
        for channel in channels()
    )
