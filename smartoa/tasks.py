"""Celery tasks of Smart OA: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import logging
from functools import cache, partial

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from smartoa import polling, services
from smartoa.client import SmartOAClient
from smartoa.models import Contract

logger = logging.getLogger(__name__)


@cache
def _client() -> SmartOAClient:
    # One client per worker process: its connection pool serves every contract polled there.
    return SmartOAClient()


@shared_task(ignore_result=True)
def poll_contract(*, contract_pk: int) -> str:
    """Fetch now, from the portal: a batch of one (same writes, notices and webhooks)."""
    contract = (
        Contract.objects.select_related("organisation").filter(pk=contract_pk, enabled=True).first()
    )
    if contract is None:  # disabled or deleted since it was enqueued
        return "skipped"
    result = polling.poll_contract(contract=contract, now=timezone.now(), client=_client())
    return result.outcome


@shared_task(ignore_result=True)
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
    return outcomes


@shared_task(ignore_result=True)
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
