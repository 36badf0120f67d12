"""Removing GRDF data whose consent ended more than ``GRDF_RETENTION_DAYS`` ago.

A PCE's stored consumption and snapshots go once none of its rights still covers them: every
right has ended (consent end passed, or revoked, terminated, refused, obsolete) and the latest
end is older than the retention. Rights themselves stay: they are the trail of the consent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from grdf_access.models import FINAL_STATES, AccessRight, Pce, Revision, Snapshot
from grdf_access.sync import SOURCE
from hub.actors import Actor
from hub.models import Series
from hub.services import audit
from hub.services.series import delete_points


@dataclass
class PurgeReport:
    pces: int = 0
    points: int = 0
    snapshots: int = 0


def retention_days() -> int:
    return int(getattr(settings, "GRDF_RETENTION_DAYS", 365))


def _ended_on(right: AccessRight) -> dt.date:
    if right.state in FINAL_STATES and right.state_changed_at is not None:
        return min(right.consent_end, right.state_changed_at.date())
    return right.consent_end


def purge(*, today: dt.date, now: dt.datetime, days: int | None = None) -> PurgeReport:
    days = retention_days() if days is None else days
    cutoff = today - dt.timedelta(days=days)
    report = PurgeReport()
    candidates = (
        Pce.objects.annotate(last_end=Max("rights__consent_end"))
        .filter(rights__isnull=False)
        .select_related("organisation", "metering_point")
    )
    for pce in candidates.prefetch_related("rights"):
        rights = list(pce.rights.all())
        still_open = any(r.state not in FINAL_STATES and r.consent_end >= today for r in rights)
        if still_open or max(_ended_on(r) for r in rights) >= cutoff:
            continue
        series_ids = list(
            Series.objects.filter(
                metering_point_id=pce.metering_point_id, source=SOURCE
            ).values_list("pk", flat=True)
        )
        with transaction.atomic():
            points = delete_points(series_ids=series_ids)  # their rollups too, if any
            snapshots, _ = Snapshot.objects.filter(pce=pce).delete()
            Revision.objects.filter(pce=pce).delete()  # replaced values are data too
            if points or snapshots:
                report.pces += 1
                report.points += points
                report.snapshots += snapshots
                audit.record(
                    action="grdf.data.purged",
                    actor=Actor.system("grdf_purge"),
                    organisation=pce.organisation,
                    target=pce,
                    after={"points": points, "snapshots": snapshots, "cutoff": cutoff},
                    at=now,
                )
    return report
