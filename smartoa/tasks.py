"""Celery tasks of Smart OA: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

from functools import cache, partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from smartoa import services, webhooks
from smartoa.client import SmartOAClient
from smartoa.models import Contract, DeliveryStatus, ScheduleVersion, WebhookDelivery


@cache
def _client() -> SmartOAClient:
    # One client per worker process: its connection pool serves every contract polled there.
    return SmartOAClient()


@shared_task(queue="polling", ignore_result=True)
def poll_contract(*, contract_pk: int) -> str:
    contract = (
        Contract.objects.select_related("organisation").filter(pk=contract_pk, enabled=True).first()
    )
    if contract is None:  # disabled or deleted since it was enqueued
        return "skipped"
    # No transaction around the call: the version commits on its own, and the webhooks it
    # triggers are enqueued at once.
    result = services.poll_contract(contract=contract, now=timezone.now(), client=_client())
    if result.version is not None and result.outcome == "new_version":
        notify_version(version=result.version)
    return result.outcome


def notify_version(*, version: ScheduleVersion) -> None:
    """Queue a webhook delivery per listening endpoint, sent once the version is committed."""
    for delivery in webhooks.create_deliveries(version=version):
        transaction.on_commit(
            partial(deliver_webhook.apply_async, kwargs={"delivery_pk": delivery.pk})
        )


@shared_task(bind=True, queue="default", ignore_result=True, max_retries=None)
def deliver_webhook(self, *, delivery_pk: int) -> str:
    delivery = (
        WebhookDelivery.objects.select_related("endpoint")
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


@shared_task(queue="polling", ignore_result=True)
def poll_due_contracts(*, limit: int = 5000) -> int:
    """Beat's fan-out: one poll task per contract that is due."""
    with transaction.atomic():
        due = services.claim_due_contracts(now=timezone.now(), limit=limit)
        for pk in due:
            transaction.on_commit(partial(poll_contract.apply_async, kwargs={"contract_pk": pk}))
    return len(due)
