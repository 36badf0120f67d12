"""Celery tasks: evaluate every site's controllers; refresh every channel's watchdog."""

from __future__ import annotations

import itertools

from celery import shared_task
from django.utils import timezone

from hub.control import services
from hub.control.models import ActuatorChannel, SiteControl

_counter = itertools.count(1)


@shared_task(name="hub.control.tasks.evaluate_all")
def evaluate_all() -> int:
    """One evaluation of every site with control enabled; the number of commands."""
    total = 0
    for control in SiteControl.objects.filter(enabled=True).select_related("site"):
        total += len(services.evaluate_site(site=control.site, now=timezone.now()))
    return total


@shared_task(name="hub.control.tasks.evaluate_site")
def evaluate_site(site_id: int) -> int:
    control = SiteControl.objects.select_related("site").get(site_id=site_id)
    return len(services.evaluate_site(site=control.site, now=timezone.now()))


@shared_task(name="hub.control.tasks.heartbeat")
def heartbeat() -> int:
    """Refresh the watchdog of every enabled channel of a site not in dry run."""
    counter = next(_counter)
    alive = 0
    channels = ActuatorChannel.objects.filter(enabled=True).exclude(site__control__dry_run=True)
    for channel in channels:
        alive += services.heartbeat(channel=channel, counter=counter, now=timezone.now())
    return alive
