"""Housekeeping tasks of the shared core (thin: arguments in, a service call, nothing else)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from hub.services.polling import prune_poll_runs


@shared_task(ignore_result=True)
def prune_old_poll_runs(*, keep_days: int = 90) -> int:
    return prune_poll_runs(keep_days=keep_days, now=timezone.now())
