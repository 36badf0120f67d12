"""Housekeeping tasks of the shared core (thin: arguments in, a service call, nothing else)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from hub.services import partitions, webhooks
from hub.services.polling import prune_poll_runs


@shared_task(ignore_result=True)
def prune_old_poll_runs(*, keep_days: int = 90) -> int:
    return prune_poll_runs(keep_days=keep_days, now=timezone.now())


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_webhook(self, *, channel: str, delivery_pk: int) -> str:
    outcome = webhooks.deliver(channel=channel, delivery_pk=delivery_pk, now=timezone.now())
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@shared_task(ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat's safety net: every app's pending deliveries that were never sent, sent again."""
    return webhooks.sweep(now=timezone.now())


@shared_task(ignore_result=True)
def maintain_point_partitions() -> dict[str, list[str]]:
    now = timezone.now()
    return {
        "created": partitions.create_ahead(now=now),
        "dropped": partitions.drop_expired(now=now),
    }
