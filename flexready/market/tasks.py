"""Celery tasks of the market signals: thin, keyword arguments only, queue declared on each."""

from __future__ import annotations

import logging
from functools import partial

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from flexready.market.client.ecowatt import EcowattClient, configured
from flexready.market.client.supplier import SupplierClient
from flexready.market.models import SupplierFeed
from flexready.market.services import ecowatt, supplier

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def poll_ecowatt() -> str:
    """Beat runs this often; the service calls RTE at most once per 15 minutes."""
    if not configured():
        logger.warning("Ecowatt is not polled: ECOWATT_CLIENT_ID/ECOWATT_CLIENT_SECRET unset")
        return "not_configured"
    with EcowattClient() as client:
        return ecowatt.poll(now=timezone.now(), client=client).outcome


@shared_task(ignore_result=True)
def poll_supplier_feed(*, feed_pk: int) -> str:
    feed = (
        SupplierFeed.objects.select_related("organisation", "metering_point")
        .filter(pk=feed_pk, enabled=True)
        .first()
    )
    if feed is None:  # disabled or deleted since it was enqueued
        return "skipped"
    with SupplierClient() as client:
        return supplier.poll_feed(feed=feed, now=timezone.now(), client=client).status


@shared_task(ignore_result=True)
def poll_supplier_feeds() -> int:
    """Beat's fan-out: one task per enabled feed."""
    pks = list(SupplierFeed.objects.filter(enabled=True).values_list("pk", flat=True))
    with transaction.atomic():
        for pk in pks:
            transaction.on_commit(partial(poll_supplier_feed.apply_async, kwargs={"feed_pk": pk}))
    return len(pks)
