"""Evaluating a site's controllers and sending the arbitrated commands; overrides; dry run.

Every command (sent or, in dry run, computed) and every operator action is audited with
``hub.services.audit.record`` in the transaction that stores it.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _

from hub import metrics
from hub.actors import Actor
from hub.clock import local_day_bounds, local_day_of
from hub.control import drivers, registry
from hub.control.arbitration import DEFAULT, Decision, LoadState, Request, arbitrate
from hub.control.models import (
    ActuatorChannel,
    Command,
    CommandStatus,
    ControllableLoad,
    ManualOverride,
    SiteControl,
)
from hub.control.registry import Priority
from hub.models import Site
from hub.services.audit import record

logger = logging.getLogger(__name__)

MANUAL = "manuel"


class InvalidOverride(Exception):
    """An override whose value or end time cannot be applied."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def site_control(*, site: Site) -> SiteControl:
    control, _created = SiteControl.objects.get_or_create(
        site=site, defaults={"organisation_id": site.organisation_id}
    )
    return control


def off_seconds_today(load: ControllableLoad, now: dt.datetime) -> float:
    """Seconds the load has been off today (Paris day), the running off period included."""
    today = local_day_of(now)
    stored = load.off_seconds if load.off_day == today else 0.0
    if load.is_off() and load.changed_at is not None:
        day_start, _end = local_day_bounds(today)
        stored += max(0.0, (now - max(load.changed_at, day_start)).total_seconds())
    return stored


def _state(load: ControllableLoad, value: float | None, now: dt.datetime) -> LoadState:
    return LoadState(
        load_id=load.pk,
        value=value,
        full=load.full_value,
        changed_at=load.changed_at,
        min_on_s=load.min_on_seconds,
        min_off_s=load.min_off_seconds,
        max_off_s_per_day=load.max_off_seconds_per_day,
        off_s_today=off_seconds_today(load, now),
    )


def _read_after_restart(loads: Sequence[ControllableLoad], now: dt.datetime) -> set[int]:
    """Re-read each channel's loads once per process before commanding; the unknown loads' ids."""
    unknown: set[int] = set()
    by_channel: dict[int, list[ControllableLoad]] = {}
    for load in loads:
        by_channel.setdefault(load.channel_id, []).append(load)
    for channel_id, of_channel in by_channel.items():
        if drivers.was_read(channel_id):
            continue
        channel = of_channel[0].channel
        if not channel.enabled:
            unknown.update(load.pk for load in of_channel)
            continue
        try:
            driver = drivers.driver_for(channel)
            for load in of_channel:
                value = driver.read(load)
                if value != load.value:
                    load.changed_at = now
                load.value, load.value_read_at = value, now
                load.save(update_fields=["value", "value_read_at", "changed_at"])
        except drivers.DriverError as exc:
            _channel_error(channel, str(exc))
            unknown.update(load.pk for load in of_channel)
            continue
        drivers.mark_read(channel_id)
    return unknown


def _channel_error(channel: ActuatorChannel, error: str) -> None:
    ActuatorChannel.objects.filter(pk=channel.pk).update(last_error=error[:300])


def requests_for(
    *, site: Site, loads: Sequence[ControllableLoad], now: dt.datetime
) -> list[Request]:
    """What every registered controller and every running manual override wants now."""
    ids = {load.pk for load in loads}
    requests: list[Request] = []
    for controller in registry.controllers():
        try:
            wants = controller.wants(site=site, loads=loads, now=now)
        except Exception:
            # A broken controller keeps what it holds rather than releasing it on an error.
            logger.exception("control.controller_failed", extra={"controller": controller.name})
            wants = [
                registry.Want(load.pk, load.value, load.held_reason)
                for load in loads
                if load.held_by == controller.name and load.value is not None
            ]
        requests.extend(
            Request(w.load_id, w.value, controller.name, controller.priority, w.reason[:300])
            for w in wants
            if w.load_id in ids
        )
    overrides = ManualOverride.objects.filter(
        load__in=ids, starts_at__lte=now, ends_at__gt=now, cancelled_at__isnull=True
    )
    requests.extend(
        Request(o.load_id, o.value, MANUAL, Priority.MANUAL, f"{o.reason} ({o.created_by})")
        for o in overrides
    )
    return requests


def evaluate_site(*, site: Site, now: dt.datetime) -> list[Command]:
    """Ask the controllers, arbitrate, and send (or record in dry run) what changes."""
    with transaction.atomic():
        # The site's row lock: two evaluations of one site never command a load at once.
        control = SiteControl.objects.select_for_update().get(pk=site_control(site=site).pk)
        if not control.enabled:
            return []
        loads = list(
            ControllableLoad.objects.filter(site=site)
            .select_related("channel", "organisation")
            .order_by("priority", "pk")
        )
        unknown = set() if control.dry_run else _read_after_restart(loads, now)
        requests = requests_for(site=site, loads=loads, now=now)
        if control.dry_run:
            # Nothing is sent, so nothing is read: an unknown load is computed from its normal
            # value (the equipment may not even be reachable yet).
            states = [_state(x, x.full_value if x.value is None else x.value, now) for x in loads]
        else:
            states = [_state(x, None if x.pk in unknown else x.value, now) for x in loads]
        decisions = {d.load_id: d for d in arbitrate(loads=states, requests=requests, now=now)}
        last = _last_commands(loads) if control.dry_run else {}
        commands = []
        for load in loads:
            decision = decisions[load.pk]
            if decision.send:
                if control.dry_run and _same_as_last(last.get(load.pk), decision):
                    continue
                commands.append(_command(load, decision, dry_run=control.dry_run, now=now))
            else:
                _hold(load, decision)
        control.last_evaluated_at = now
        control.save(update_fields=["last_evaluated_at"])
        return commands


def _last_commands(loads: Sequence[ControllableLoad]) -> dict[int, Command]:
    """Each load's latest command, in one query whatever the history's length."""
    latest = (
        Command.objects.filter(load=OuterRef("load_id")).order_by("-at", "-pk").values("pk")[:1]
    )
    rows = Command.objects.filter(load__in=[x.pk for x in loads], pk=Subquery(latest))
    return {command.load_id: command for command in rows}


def _same_as_last(command: Command | None, decision: Decision) -> bool:
    return (
        command is not None
        and command.status == CommandStatus.DRY_RUN
        and command.value == decision.target
        and command.source == decision.holder
    )


def _hold(load: ControllableLoad, decision: Decision) -> None:
    holder = "" if decision.holder == DEFAULT else decision.holder
    reason = decision.reason if not decision.blocked else f"en attente : {decision.blocked}"
    if (load.held_by, load.held_reason) != (holder, reason[:300]):
        load.held_by, load.held_reason = holder, reason[:300]
        load.save(update_fields=["held_by", "held_reason"])


def _command(
    load: ControllableLoad, decision: Decision, *, dry_run: bool, now: dt.datetime
) -> Command:
    previous = load.value
    command = Command(
        organisation_id=load.organisation_id,
        load=load,
        at=now,
        value=decision.target,
        previous=previous,
        source=decision.holder,
        reason=decision.reason[:300],
    )
    if dry_run:
        command.status = CommandStatus.DRY_RUN
    else:
        started = time.perf_counter()
        try:
            ack = drivers.driver_for(load.channel).write(load, decision.target)
        except drivers.DriverError as exc:
            command.status, command.error = CommandStatus.FAILED, str(exc)[:300]
            _channel_error(load.channel, command.error)
        else:
            command.acked_value = ack.value
            ok = abs(ack.value - decision.target) < 1e-6
            command.status = CommandStatus.ACKNOWLEDGED if ok else CommandStatus.FAILED
            command.error = "" if ok else "valeur relue différente de la valeur écrite"
            _applied(load, ack.value, now)
        command.latency_ms = (time.perf_counter() - started) * 1000
    command.save()
    metrics.observe_command(status=command.status, latency_ms=command.latency_ms)
    holder = "" if decision.holder == DEFAULT else decision.holder
    load.held_by, load.held_reason = holder, decision.reason[:300]
    load.save()
    record(
        action="control.command",
        actor=Actor(label=decision.holder),
        organisation=load.organisation,
        target=load,
        before={"value": previous},
        after={
            "value": command.value,
            "status": command.status,
            "source": command.source,
            "reason": command.reason,
            "acked_value": command.acked_value,
            "latency_ms": command.latency_ms,
            "error": command.error,
        },
        at=now,
    )
    return command


def _applied(load: ControllableLoad, value: float, now: dt.datetime) -> None:
    """The load's new value, with its off time of the day kept for the daily maximum."""
    was_off, goes_off = load.is_off(), load.is_off(value)
    if was_off != goes_off or load.changed_at is None:
        if was_off and load.changed_at is not None:
            load.off_seconds = off_seconds_today(load, now)
            load.off_day = local_day_of(now)
        elif local_day_of(now) != load.off_day:
            load.off_seconds, load.off_day = 0.0, local_day_of(now)
        load.changed_at = now
    load.value, load.value_read_at = value, now


# --- Operators ---------------------------------------------------------------------------------


def set_override(
    *,
    load: ControllableLoad,
    value: float,
    ends_at: dt.datetime,
    reason: str,
    actor: Actor,
    now: dt.datetime,
) -> ManualOverride:
    if ends_at <= now:
        raise InvalidOverride("ends_at", _("la fin doit être dans le futur"))
    if ends_at - now > dt.timedelta(days=7):
        raise InvalidOverride("ends_at", _("un forçage dure au plus 7 jours"))
    if not 0 <= value <= max(load.full_value, 1.0):
        raise InvalidOverride(
            "value",
            _("valeur hors de [0, %(value)s]") % {"value": format(max(load.full_value, 1.0), "g")},
        )
    with transaction.atomic():
        override = ManualOverride.objects.create(
            organisation_id=load.organisation_id,
            load=load,
            value=value,
            reason=reason[:300] or "forçage manuel",
            starts_at=now,
            ends_at=ends_at,
            created_by=actor.label[:200],
        )
        record(
            action="control.override_set",
            actor=actor,
            organisation=load.organisation,
            target=load,
            after={"value": value, "ends_at": ends_at, "reason": override.reason},
            at=now,
        )
    return override


def cancel_override(*, override: ManualOverride, actor: Actor, now: dt.datetime) -> None:
    with transaction.atomic():
        override.cancelled_at = now
        override.save(update_fields=["cancelled_at"])
        record(
            action="control.override_cancelled",
            actor=actor,
            organisation=override.load.organisation,
            target=override.load,
            before={"value": override.value, "ends_at": override.ends_at},
            at=now,
        )


def set_dry_run(*, site: Site, dry_run: bool, actor: Actor, now: dt.datetime) -> SiteControl:
    with transaction.atomic():
        control = SiteControl.objects.select_for_update().get(pk=site_control(site=site).pk)
        before = control.dry_run
        control.dry_run = dry_run
        control.save(update_fields=["dry_run"])
        record(
            action="control.dry_run",
            actor=actor,
            organisation=site.organisation,
            target=site,
            before={"dry_run": before},
            after={"dry_run": dry_run},
            at=now,
        )
    return control


# --- Watchdog ----------------------------------------------------------------------------------


def heartbeat(*, channel: ActuatorChannel, counter: int, now: dt.datetime) -> bool:
    """Refresh the channel's watchdog; False (and the error kept) when the equipment is away."""
    try:
        drivers.driver_for(channel).heartbeat(counter)
    except drivers.DriverError as exc:
        _channel_error(channel, str(exc))
        return False
    ActuatorChannel.objects.filter(pk=channel.pk).update(last_heartbeat_at=now, last_error="")
    return True
