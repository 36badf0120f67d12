"""Moving confirmed requests along the clock (active, then realised or failed)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from flexready import services
from flexready.models import FlexRequest, RequestStatus


@shared_task
def advance_requests() -> int:
    """Every confirmed or active request whose start or end has passed; returns how many moved."""
    now = timezone.now()
    moved = 0
    due = FlexRequest.objects.filter(
        status__in=[RequestStatus.CONFIRMED, RequestStatus.ACTIVE], start__lte=now
    ).select_related("asset__bacs__organisation", "asset__bacs__metering_point")
    for request in due.iterator():
        before = request.status
        services.advance(request=request, now=now, caller=services.Caller("flexready.tasks"))
        moved += request.status != before
    return moved
