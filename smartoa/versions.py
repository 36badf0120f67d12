"""Storing schedule versions and telling of them: the one path of polled and entered schedules.

A poll of one contract ("fetch now"), a batch of polls and an operator's manual entry all store
through :func:`store` (versions, their stop episodes and audit events, in bulk) and tell through
:func:`distribute` (the notice to the contacts, a webhook delivery per listening endpoint), so
each version is stored, audited, notified and delivered the same way whatever brought it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects

from hub import mqtt
from hub.actors import Actor
from hub.bulk import bulk_insert
from hub.clock import local_day_bounds, local_day_of
from hub.services import audit
from hub.services import webhooks as hub_webhooks
from smartoa import notices, webhooks
from smartoa.client import Schedule
from smartoa.models import Contract, ScheduleVersion, StopEpisode, VersionSource, WebhookEndpoint
from smartoa.schedule import Episode, diff_episodes

logger = logging.getLogger(__name__)

POLLER_LABEL = "smartoa poller"
POLLER = Actor.system(POLLER_LABEL)
ACTIONS = {
    VersionSource.API: "smartoa.schedule.published",
    VersionSource.MANUAL: "smartoa.schedule.entered",
}


@dataclass(frozen=True)
class Incoming:
    """A schedule to keep: fetched from the API, or entered by ``actor`` (manual)."""

    contract: Contract
    schedule: Schedule
    source: str = VersionSource.API
    actor: Actor = POLLER


@dataclass(frozen=True)
class Stored:
    version: ScheduleVersion | None  # None when the version was already known
    created: bool


def store(*, items: Sequence[Incoming], now: dt.datetime) -> list[Stored]:
    """Keep each schedule whose (day, update date) is new for its contract, in a few queries.

    One query finds the versions already known; new versions, their episodes and their audit
    events go in three bulk INSERTs. Call it inside a transaction: an IntegrityError means
    another writer stored one of these versions meanwhile.
    """
    known = _known_versions(items)
    new: list[tuple[Incoming, ScheduleVersion, list[Episode]]] = []
    previous_of: dict[int, int] = {}  # index of the item -> pk of the version just before
    seen: set[tuple[int, dt.date, dt.datetime]] = set()
    results: list[Stored] = []
    for index, item in enumerate(items):
        schedule = item.schedule
        key = (item.contract.pk, schedule.application_date, schedule.update_date)
        versions = known.get(key[:2], [])
        if key in seen or any(update == schedule.update_date for _pk, update in versions):
            results.append(Stored(None, False))
            continue
        seen.add(key)
        earlier = [v for v in versions if v[1] < schedule.update_date]
        if earlier:
            previous_of[index] = max(earlier, key=lambda v: v[1])[0]
        version = ScheduleVersion(
            contract=item.contract,
            application_date=schedule.application_date,
            update_date=schedule.update_date,
            fetched_at=now,
            raw_body=schedule.raw,
            periods=[p.as_json() for p in schedule.periods],
            source=item.source,
        )
        new.append((item, version, schedule.episodes))
        results.append(Stored(version, True))
    if new:
        _insert(
            new, [index for index, stored in enumerate(results) if stored.created], previous_of, now
        )
    return results


def _known_versions(
    items: Sequence[Incoming],
) -> dict[tuple[int, dt.date], list[tuple[int, dt.datetime]]]:
    """(contract pk, day) -> [(version pk, update date)] for the days of ``items``."""
    if not items:
        return {}
    rows = (
        ScheduleVersion.objects.filter(
            contract__pk__any={i.contract.pk for i in items},
            application_date__any={i.schedule.application_date for i in items},
        )
        .order_by()
        .values_list("pk", "contract_id", "application_date", "update_date")
    )
    known: dict[tuple[int, dt.date], list[tuple[int, dt.datetime]]] = {}
    for pk, contract_pk, day, update_date in rows:
        known.setdefault((contract_pk, day), []).append((pk, update_date))
    return known


def _insert(
    new: list[tuple[Incoming, ScheduleVersion, list[Episode]]],
    indexes: list[int],
    previous_of: dict[int, int],
    now: dt.datetime,
) -> None:
    previous_episodes: dict[int, list[Episode]] = {}
    for version_pk, start, end in StopEpisode.objects.filter(
        version_id__in=previous_of.values()
    ).values_list("version_id", "start", "end"):
        previous_episodes.setdefault(version_pk, []).append(Episode(start, end))
    for index, (_item, version, episodes) in zip(indexes, new, strict=True):
        previous_pk = previous_of.get(index)
        if previous_pk is not None:
            before = sorted(previous_episodes.get(previous_pk, []))
            version.diff = diff_episodes(before, episodes).as_json()
    bulk_insert([version for _item, version, _episodes in new])
    rows = {
        id(version): [StopEpisode(version=version, start=e.start, end=e.end) for e in episodes]
        for _item, version, episodes in new
    }
    bulk_insert([row for stops in rows.values() for row in stops])
    for _item, version, _episodes in new:
        _keep_episodes(version, rows[id(version)])
    # One INSERT for the events: a poll's are the poller's publications, and one row at a time
    # was most of the cost of a first poll. A manual entry's event names the person.
    audit.record_rows(
        audit.row(
            at=now,
            actor=item.actor,
            organisation=item.contract.organisation,
            action=ACTIONS[VersionSource(item.source)],
            target=version,
            after={
                "application_date": version.application_date,
                "update_date": version.update_date,
                "source": item.source,
                "episodes": [e.as_json() for e in episodes],
                "diff": version.diff,
            },
        )
        for item, version, episodes in new
    )


def _keep_episodes(version: ScheduleVersion, rows: list[StopEpisode]) -> None:
    """Leave the just-inserted stops on ``version`` as if prefetched: telling of it (the notice,
    the deliveries, MQTT) reads them from there instead of loading them back."""
    stops = sorted(rows, key=lambda e: e.start)
    cached = version.episodes.all()
    cached._result_cache = list(stops)
    # What Django's own prefetch leaves (prefetch_related_objects then skips the version).
    cached._prefetch_done = True  # type: ignore[attr-defined]
    version._prefetched_objects_cache = {"episodes": cached}  # type: ignore[attr-defined]
    version.__dict__["stops"] = stops  # the cached property, read by each part of telling


def distribute(
    *,
    version: ScheduleVersion,
    now: dt.datetime,
    endpoints: list[WebhookEndpoint] | None = None,
) -> None:
    """Tell of a new or changed stop: the notice e-mailed to the contract's contacts, and a
    webhook delivery per listening endpoint, sent once the version is committed."""
    _tell([version], now=now, endpoints=endpoints)


def distribute_all(*, versions: Sequence[ScheduleVersion], now: dt.datetime) -> None:
    """:func:`distribute` a batch's versions together: their stops and the organisations'
    endpoints loaded once, the notices in one ``notify_many``, the deliveries in one INSERT and
    queued in one go once committed. If that fails, each version is told on its own, so a
    failing notice touches no other."""
    if not versions:
        return
    try:
        with transaction.atomic():
            _tell(versions, now=now)
        return
    except Exception:
        logger.warning("smartoa batch notice failed; telling versions one by one", exc_info=True)
    for version in versions:
        try:
            with transaction.atomic():
                _tell([version], now=now)
        except Exception:
            logger.exception(
                "smartoa notice failed", extra={"contract": version.contract.contract_id}
            )


def _tell(
    versions: Sequence[ScheduleVersion],
    *,
    now: dt.datetime,
    endpoints: list[WebhookEndpoint] | None = None,
) -> None:
    prefetch_related_objects(
        list(versions), Prefetch("episodes", queryset=StopEpisode.objects.order_by("start"))
    )
    told = [v for v in versions if webhooks.needs_notice(v)]
    if not told:
        return
    notices.notify_contacts_many(versions=told, now=now)
    _publish_stops(told, now=now)
    if endpoints is None:
        endpoints = webhooks.listening_endpoints(
            organisation_ids={v.contract.organisation_id for v in told}
        )
    deliveries = webhooks.create_deliveries_many(versions=told, endpoints=endpoints)
    hub_webhooks.enqueue(deliveries=deliveries)


# Home Assistant (hub.mqtt): the stops of today and tomorrow (Paris days) of a new version.
MQTT_STOPS = mqtt.Entity(
    "smartoa_stop",
    "Smart OA : arrêt aujourd'hui ou demain",
    component="event",
    event_types=("stop_today", "stop_tomorrow"),
)


def _publish_stops(versions: Sequence[ScheduleVersion], *, now: dt.datetime) -> None:
    today = local_day_of(now)
    days = {
        "stop_today": local_day_bounds(today),
        "stop_tomorrow": local_day_bounds(today + dt.timedelta(days=1)),
    }
    for version in versions:
        for episode in version.stops:
            for event_type, (start, end) in days.items():
                if episode.start < end and episode.end > start:
                    mqtt.publish_event_on_commit(
                        organisation_id=version.contract.organisation_id,
                        entity=MQTT_STOPS,
                        event_type=event_type,
                        attributes={
                            "contract": version.contract.contract_id,
                            "start": episode.start,
                            "end": episode.end,
                        },
                    )
