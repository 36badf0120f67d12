"""Celery tasks of Smart OA: thin, keyword arguments only, queue declared on each task."""

from __future__ import annotations

import datetime as dt
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
def poll_contracts(*, contract_pks: list[int], claimed_at: str | None = None) -> dict[str, int]:
    """Poll a batch of contracts: parallel calls, batched writes (see ``smartoa.polling``).

    ``claimed_at`` is the fan-out's claim: a message that waited in the queue past the claim's
    lease may find its contracts claimed again by a later fan-out, whose own message will poll
    them, so this one leaves them alone rather than poll them a second time.
    """
    rows = Contract.objects.select_related("organisation").filter(pk__in=contract_pks, enabled=True)
    if claimed_at is not None:
        rows = rows.filter(claimed_at=dt.datetime.fromisoformat(claimed_at))
    contracts = list(rows.order_by("pk"))
    superseded = len(contract_pks) - len(contracts)
    results = polling.poll_contracts(
        contracts=contracts,
        now=timezone.now(),
        client=_client(),
        threads=settings.SMARTOA_POLL_THREADS,
        batch_size=settings.SMARTOA_POLL_BATCH,
    )
    outcomes: dict[str, int] = {"skipped": superseded} if superseded else {}
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
    now = timezone.now()
    with transaction.atomic():
        due = services.claim_due_contracts(now=now, limit=limit)
        for offset in range(0, len(due), size):
            transaction.on_commit(
                partial(
                    poll_contracts.apply_async,
                    kwargs={
                        "contract_pks": due[offset : offset + size],
                        "claimed_at": now.isoformat(),
                    },
                )
            )
    return len(due)
