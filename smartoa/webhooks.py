"""Telling plants of a new or changed stop: what is sent, and to which endpoints.

Sending, signing, retries and re-sending are the hub's (``hub.services.webhooks``). Each body
is signed with the endpoint's secret: ``X-SmartOA-Signature: sha256=<hex>`` is HMAC-SHA256 over
``<timestamp>.<body>``, with the timestamp (Unix seconds) in ``X-SmartOA-Timestamp``, so a
receiver can refuse replays. A 2xx answer acknowledges.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.clock import PARIS, format_local
from hub.http import webhooks as outgoing
from hub.services import webhooks as deliveries
from smartoa.models import ScheduleVersion, StopEpisode, WebhookDelivery, WebhookEndpoint

CHANNEL = deliveries.Channel(
    "smartoa.schedule", WebhookDelivery, header_prefix="X-SmartOA", provider="smartoa-webhook"
)
SIGNATURE_HEADER, TIMESTAMP_HEADER = CHANNEL.signature_header, CHANNEL.timestamp_header

sign = outgoing.sign  # kept here: receivers' docs and tests name it with the headers


def payload_for(version: ScheduleVersion) -> dict[str, Any]:
    """The body: instants in UTC, each also in Paris time with its offset, and a French text.

    ``text`` is for receivers that show it to a person (a chat channel, an SMS gateway): its
    times carry their UTC offset on the days the clocks change (``hub.clock.format_local``).
    """
    episodes = episodes_of(version)
    stops = [f"{format_local(e.start)} → {format_local(e.end)}" for e in episodes]
    day = f"{version.application_date:%d/%m/%Y}"
    text = (
        f"Contrat {version.contract.contract_id}, journée du {day} : "
        + ("arrêts " + ", ".join(stops) if stops else "aucun arrêt")
        + " (heure de Paris)."
    )
    return {
        "event": "smartoa.schedule.changed" if version.diff else "smartoa.schedule.published",
        "contract_id": version.contract.contract_id,
        "application_date": version.application_date.isoformat(),
        "update_date": version.update_date.isoformat(),
        "source": version.source,
        "episodes": [
            {
                "start": e.start.isoformat(),
                "end": e.end.isoformat(),
                "start_local": _paris_iso(e.start),
                "end_local": _paris_iso(e.end),
            }
            for e in episodes
        ],
        "diff": version.diff,
        "text": text,
    }


def _paris_iso(instant: dt.datetime) -> str:
    return instant.astimezone(PARIS).isoformat(timespec="seconds")


def episodes_of(version: ScheduleVersion) -> list[StopEpisode]:
    """The version's stops in order, from the prefetched ones when a batch loaded them."""
    return version.stops


def needs_notice(version: ScheduleVersion) -> bool:
    """A first version with stops, or a version whose stops changed."""
    if version.diff is None:
        return bool(version.stops)
    return bool(version.diff["added"] or version.diff["removed"] or version.diff["moved"])


def listening_endpoints(*, organisation_ids: set[int]) -> list[WebhookEndpoint]:
    """The enabled endpoints of these organisations, with the contracts they listen to."""
    return list(
        WebhookEndpoint.objects.filter(organisation_id__in=organisation_ids, enabled=True)
        .prefetch_related("contracts")
        .order_by("pk")
    )


def create_deliveries(
    *, version: ScheduleVersion, endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """One pending delivery per enabled endpoint listening to the version's contract.

    ``endpoints``: the organisations' endpoints loaded once for a batch (``listening_endpoints``).
    """
    return create_deliveries_many(versions=[version], endpoints=endpoints)


def create_deliveries_many(
    *, versions: list[ScheduleVersion], endpoints: list[WebhookEndpoint] | None = None
) -> list[WebhookDelivery]:
    """:func:`create_deliveries` for many versions: one SELECT of those already there (a
    version told twice keeps its deliveries) and one bulk INSERT."""
    told = [v for v in versions if needs_notice(v)]
    if not told:
        return []
    if endpoints is None:
        endpoints = listening_endpoints(organisation_ids={v.contract.organisation_id for v in told})
    pairs: list[tuple[WebhookEndpoint, ScheduleVersion]] = []
    for version in told:
        contract = version.contract
        pairs += [
            (e, version)
            for e in endpoints
            if e.organisation_id == contract.organisation_id
            and e.enabled
            and (not e.contracts.all() or any(c.pk == contract.pk for c in e.contracts.all()))
        ]
    if not pairs:
        return []
    existing = {
        (d.endpoint_id, d.version_id): d
        for d in WebhookDelivery.objects.filter(
            version_id__in={v.pk for _e, v in pairs}, endpoint_id__in={e.pk for e, _v in pairs}
        )
    }
    payloads = {v.pk: payload_for(v) for v in {v.pk: v for _e, v in pairs}.values()}
    new = [
        WebhookDelivery(endpoint=endpoint, version=version, payload=payloads[version.pk])
        for endpoint, version in pairs
        if (endpoint.pk, version.pk) not in existing
    ]
    WebhookDelivery.objects.bulk_create(new)
    fresh = iter(new)
    return [existing.get((e.pk, v.pk)) or next(fresh) for e, v in pairs]
