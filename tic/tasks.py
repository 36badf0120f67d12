"""Celery tasks of the TIC app: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from tic import webhooks
from tic.models import DeliveryStatus, TicWebhookDelivery


@shared_task(bind=True, ignore_result=True, max_retries=None)
def deliver_webhook(self, *, delivery_pk: int) -> str:
    delivery = (
        TicWebhookDelivery.objects.select_related("webhook")
        .filter(pk=delivery_pk, status=DeliveryStatus.PENDING)
        .first()
    )
    if delivery is None:
        return "skipped"
    if webhooks.attempt(delivery=delivery, now=timezone.now()):
        return "delivered"
    if delivery.status == DeliveryStatus.FAILED:
        return "failed"
    raise self.retry(countdown=webhooks.retry_delay(delivery.attempts))


@shared_task(ignore_result=True)
def sweep_pending_deliveries(*, older_than_seconds: int = 120) -> int:
    """Beat's safety net: re-queue deliveries left pending (broker away when they were made)."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    pending = list(
        TicWebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, attempts=0, created_at__lt=cutoff
        ).values_list("pk", flat=True)[:500]
    )
    for pk in pending:
        deliver_webhook.apply_async(kwargs={"delivery_pk": pk})
    return len(pending)
