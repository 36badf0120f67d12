"""RTE Ecowatt: one paced call for the whole hub, the national days and hours, and alerts.

Ecowatt is national: its days and hours are stored once (``EcowattDay`` / ``EcowattHour``)
rather than as a series of every organisation, which would repeat the same values per tenant
and need a metering point that does not exist. Each organisation gets the alerts.

RTE allows one call per 15 minutes (429 beyond, with ``Retry-After``). A worker claims the call
by locking the single ``EcowattState`` row and moving ``next_call_at`` forward before calling,
so any number of workers and beat schedules make at most one call per window; between calls
the stored answer is what the portal and the API serve.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import httpx
from django.db import IntegrityError, transaction
from django.urls import reverse

from flexready.market.client.ecowatt import (
    EcowattClient,
    EcowattForecast,
    EcowattRateLimited,
    EcowattResponseError,
)
from flexready.market.client.ecowatt import (
    EcowattDay as DaySignal,
)
from flexready.market.models import EcowattDay, EcowattHour, EcowattState
from hub import mqtt
from hub.clock import PARIS, local_day_of
from hub.http import ProviderError
from hub.models import Notification, Organisation, Severity
from hub.services.notifications import notify, resolve
from hub.services.polling import poll_run

POLL_SOURCE = "ecowatt"
NOTIFY_SOURCE = "ecowatt"
MIN_INTERVAL = dt.timedelta(minutes=15)
ORANGE, RED = 2, 3
LEVEL_NAMES = {ORANGE: "orange", RED: "rouge"}
# Home Assistant: one event per organisation when a day turns orange or red (hub.mqtt).
MQTT_EVENTS = mqtt.Entity(
    "ecowatt", "Ecowatt : jour orange ou rouge", component="event", event_types=("orange", "rouge")
)


@dataclass(frozen=True)
class EcowattPollResult:
    outcome: str  # "success", "skipped", "rate_limited", "invalid" or "failed"
    next_call_at: dt.datetime | None
    days: int = 0
    error: str = ""


def _state() -> EcowattState:
    try:
        with transaction.atomic():
            state, _ = EcowattState.objects.get_or_create(singleton=1)
    except IntegrityError:  # created by another worker at the same moment
        state = EcowattState.objects.get(singleton=1)
    return state


def claim_call(*, now: dt.datetime) -> bool:
    """Reserve the next call to RTE if it is due; False while the last one is too recent."""
    _state()
    with transaction.atomic():
        state = EcowattState.objects.select_for_update().get(singleton=1)
        if state.next_call_at is not None and now < state.next_call_at:
            return False
        state.next_call_at = now + MIN_INTERVAL
        state.last_called_at = now
        state.save(update_fields=["next_call_at", "last_called_at"])
    return True


def poll(*, now: dt.datetime, client: EcowattClient) -> EcowattPollResult:
    """Call RTE if due, store the answer and raise the alerts; else serve what is stored."""
    if not claim_call(now=now):
        return EcowattPollResult("skipped", EcowattState.objects.get(singleton=1).next_call_at)
    state_changes: dict[str, object] = {}
    outcome, error, days = "success", "", 0
    try:
        with poll_run(source=POLL_SOURCE, target="national", now=now) as run:
            forecast = client.fetch(now=now)
            run.items_received = sum(len(d.hours) for d in forecast.days)
            run.items_stored = store_forecast(forecast=forecast, fetched_at=now)
            days = len(forecast.days)
    except EcowattRateLimited as exc:
        outcome, error = "rate_limited", str(exc)
        # Retry-After wins when it is later than our own pace; never earlier than the pace.
        later = max(now + MIN_INTERVAL, exc.retry_at or now)
        state_changes["next_call_at"] = later
    except EcowattResponseError as exc:
        outcome, error = "invalid", str(exc)
    except (ProviderError, httpx.HTTPError) as exc:
        outcome, error = "failed", f"{type(exc).__name__}: {exc}"
    state_changes |= {"last_outcome": outcome, "last_error": error[:2000]}
    if outcome == "success":
        state_changes |= {"last_success_at": now, "last_body": forecast.raw}
    EcowattState.objects.filter(singleton=1).update(**state_changes)
    if outcome == "success":
        raise_alerts(forecast=forecast, now=now)
    next_call = EcowattState.objects.get(singleton=1).next_call_at
    return EcowattPollResult(outcome, next_call, days, error)


@transaction.atomic
def store_forecast(*, forecast: EcowattForecast, fetched_at: dt.datetime) -> int:
    """Replace the stored days of the answer with their new values; returns hours stored."""
    stored = 0
    for signal in forecast.days:
        day, _ = EcowattDay.objects.update_or_create(
            day=signal.day,
            defaults={
                "level": signal.level,
                "message": signal.message,
                "generated_at": signal.generated_at,
                "fetched_at": fetched_at,
            },
        )
        # A day's hours are republished as a whole: replacing them drops an hour RTE withdrew.
        day.hours.all().delete()
        EcowattHour.objects.bulk_create(
            EcowattHour(day=day, pas=h.pas, start=h.start, level=h.level) for h in signal.hours
        )
        stored += len(signal.hours)
    return stored


def _tense_hours(signal: DaySignal, level: int) -> str:
    hours = [h.start.astimezone(PARIS).strftime("%Hh") for h in signal.hours if h.level >= level]
    return ", ".join(hours)


def dedupe_key_prefix(day: dt.date) -> str:
    return f"ecowatt:{day.isoformat()}"


def dedupe_key(day: dt.date, level: int) -> str:
    # One open alert per local day and level: a day turning from orange to red alerts again.
    return f"{dedupe_key_prefix(day)}:{LEVEL_NAMES[level]}"


def raise_alerts(*, forecast: EcowattForecast, now: dt.datetime) -> int:
    """Notify every organisation of the orange and red days from today on; close stale ones."""
    today = local_day_of(now)
    link = reverse("flexready_market:signals")
    raised = 0
    _resolve_past(today=today, now=now)
    for organisation in Organisation.objects.order_by("pk").iterator():
        for signal in forecast.days:
            if signal.day < today:
                continue
            worst = signal.worst
            for level in (ORANGE, RED):
                key = dedupe_key(signal.day, level)
                if worst != level:
                    resolve(
                        organisation=organisation, source=NOTIFY_SOURCE, dedupe_key=key, now=now
                    )
                    continue
                note = notify(
                    organisation=organisation,
                    source=NOTIFY_SOURCE,
                    kind="ecowatt-alert",
                    title=f"Ecowatt {LEVEL_NAMES[level]} le {signal.day:%d/%m/%Y}",
                    body=_body(signal, level),
                    severity=Severity.CRITICAL if level == RED else Severity.WARNING,
                    dedupe_key=key,
                    link=link,
                    now=now,
                )
                raised += 1
                if note.repeats == 0 and note.created_at == now:  # newly raised
                    mqtt.publish_event_on_commit(
                        organisation_id=organisation.pk,
                        entity=MQTT_EVENTS,
                        event_type=LEVEL_NAMES[level],
                        attributes={"day": signal.day.isoformat()},
                    )
    return raised


def _resolve_past(*, today: dt.date, now: dt.datetime) -> None:
    # A day that is over needs no more attention; keys sort by date ("ecowatt:YYYY-MM-DD:…").
    stale = Notification.objects.filter(
        source=NOTIFY_SOURCE, resolved_at__isnull=True, dedupe_key__lt=dedupe_key_prefix(today)
    ).select_related("organisation")
    for notification in stale:
        resolve(
            organisation=notification.organisation,
            source=NOTIFY_SOURCE,
            dedupe_key=notification.dedupe_key,
            now=now,
        )


def _body(signal: DaySignal, level: int) -> str:
    hours = _tense_hours(signal, level)
    lines = [signal.message or "Signal Ecowatt tendu."]
    if hours:
        lines.append(f"Heures concernées : {hours}.")
    return "\n".join(lines)
