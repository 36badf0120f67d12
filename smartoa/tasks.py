"""Celery tasks of Smart OA: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import logging
from functools import cache, partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartoa import notices, polling, services, webhooks
from smartoa.client import SmartOAClient
from smartoa.models import Contract, DeliveryStatus, ScheduleVersion, WebhookDelivery

logger = logging.getLogger(__name__)


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
    """Tell of a new or changed stop: a notice e-mailed to the contract's contacts, and a
    webhook delivery per listening endpoint, sent once the version is committed."""
    notices.notify_contacts(version=version, now=timezone.now())
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
def poll_contracts(*, contract_pks: list[int]) -> dict[str, int]:
    """Poll a batch of contracts: parallel calls, batched writes (see ``smartoa.polling``)."""
    contracts = list(
        Contract.objects.select_related("organisation")
        .filter(pk__in=contract_pks, enabled=True)
        .order_by("pk")
    )
    results = polling.poll_contracts(
        contracts=contracts,
        now=timezone.now(),
        client=_client(),
        threads=settings.SMARTOA_POLL_THREADS,
        batch_size=settings.SMARTOA_POLL_BATCH,
    )
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
        if result.version is not None and result.outcome == "new_version":
            # One at a time, each committed on its own: a failing notice touches no other.
            try:
                with transaction.atomic():
                    notify_version(version=result.version)
            except Exception:
                logger.exception("smartoa notice failed", extra={"contract": result.contract_id})
    return outcomes


@shared_task(queue="polling", ignore_result=True)
def poll_due_contracts(*, limit: int = 5000) -> int:
    """Beat's fan-out: the due contracts, in poll tasks of ``SMARTOA_POLL_BATCH`` contracts.

    Concurrency is bounded twice: by the polling workers' concurrency (how many batches run at
    once) and by ``SMARTOA_POLL_THREADS`` (calls in flight within one batch).
    """
    size = max(int(settings.SMARTOA_POLL_BATCH), 1)
    with transaction.atomic():
        due = services.claim_due_contracts(now=timezone.now(), limit=limit)
        for offset in range(0, len(due), size):
            transaction.on_commit(
                partial(
                    poll_contracts.apply_async,
                    kwargs={"contract_pks": due[offset : offset + size]},
                )
            )
    return len(due)
