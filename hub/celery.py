"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in every app."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")

app = Celery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _warm_up(**_: object) -> None:
    """Load the URLconf once in the parent process, before the pool forks: the first task that
    builds a link (a Smart OA notice) would otherwise import every view inside a poll."""
    warm_up()


def warm_up() -> None:
    from django.urls import get_resolver

    len(get_resolver().reverse_dict)
