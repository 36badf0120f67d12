"""Raising the use cases' alerts: in-portal notification (and e-mail) plus signed webhooks."""

from __future__ import annotations

import datetime as dt
import logging

from django.urls import reverse

from hub.services import webhooks as deliveries
from hub.services.notifications import notify, resolve
from tic import webhooks
from tic.models import EventKind, TicEvent, TicMeter

logger = logging.getLogger(__name__)

SOURCE = "tic"
# Events a controller must hear of at once; tariff changes are read from the API instead.
PUSHED = {
    EventKind.PREAVIS_START,
    EventKind.PREAVIS_END,
    EventKind.DRIFT_ALERT,
    EventKind.DRIFT_CLEARED,
}


def raise_event(*, event: TicEvent, meter: TicMeter, now: dt.datetime) -> None:
    """Notify and queue webhooks for ``event`` (called inside the flush's transaction)."""
    if event.kind == EventKind.IMPLAUSIBLE:
        # Once per run of refused values; while the alert is open, repeats are only counted.
        notify(
            organisation=meter.organisation,
            source=SOURCE,
            kind="implausible",
            title=f"Compteur {meter} : index invraisemblable écarté ({event.current})",
            body="Valeur conservée avec la qualité « manquante », non comptée en énergie.",
            severity="warning",
            dedupe_key=f"implausible:{meter.pk}",
            link=reverse("tic:meter", args=[meter.pk]),
            now=now,
        )
        return
    if event.kind not in PUSHED:
        return
    organisation = meter.organisation
    link = reverse("tic:meter", args=[meter.pk])
    if event.kind == EventKind.PREAVIS_START:
        share = f" ({event.value:.0f} % de PS sur Td)" if event.value is not None else ""
        notify(
            organisation=organisation,
            source=SOURCE,
            kind="preavis",
            title=f"Préavis de dépassement de puissance souscrite : compteur {meter}{share}",
            body="Le compteur émet PREAVIS : réduisez la puissance soutirée.",
            severity="critical",
            dedupe_key=f"preavis:{meter.pk}",
            link=link,
            now=now,
        )
    elif event.kind == EventKind.PREAVIS_END:
        resolve(organisation=organisation, source=SOURCE, dedupe_key=f"preavis:{meter.pk}", now=now)
    elif event.kind == EventKind.DRIFT_ALERT:
        notify(
            organisation=organisation,
            source=SOURCE,
            kind="clock_drift",
            title=f"Horloge du compteur {meter} décalée de {event.value:.0f} s",
            severity="warning",
            dedupe_key=f"drift:{meter.pk}",
            link=link,
            now=now,
        )
    else:
        resolve(organisation=organisation, source=SOURCE, dedupe_key=f"drift:{meter.pk}", now=now)
    # Queued once the event is committed; the hub re-sends what the broker never got.
    deliveries.enqueue(deliveries=webhooks.create_deliveries(event=event, meter=meter))
