"""Throttling and lockout of sign-ins after repeated failures, per e-mail and per IP address.

Failures are rows (``AuthFailure``), not cache entries: they survive restarts, every process
sees them, an admin can read them, and tests roll them back with the transaction. With the
defaults, after the second, third and fourth failures within 15 minutes the next attempt must
wait 2, 4, then 8 seconds; the fifth locks the e-mail (and, separately, the IP address) for
15 minutes. Attempts refused by a throttle or a lock are not checked at all, so they cannot
be used to guess.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from hub.actors import NOBODY, Actor
from hub.models import AuthFailure, AuthStage, Lockout, LockScope, User
from hub.services import audit


@dataclass(frozen=True)
class Policy:
    threshold: int
    ip_threshold: int
    window: dt.timedelta
    duration: dt.timedelta
    throttle_after: int
    throttle_base_seconds: int


def policy() -> Policy:
    conf = settings.PORTAL_LOCKOUT
    return Policy(
        threshold=int(conf["threshold"]),
        ip_threshold=int(conf.get("ip_threshold", conf["threshold"])),
        window=dt.timedelta(seconds=int(conf["window_seconds"])),
        duration=dt.timedelta(seconds=int(conf["duration_seconds"])),
        throttle_after=int(conf["throttle_after"]),
        throttle_base_seconds=int(conf["throttle_base_seconds"]),
    )


@dataclass(frozen=True)
class Refusal:
    """Why an attempt is refused before it is checked, and until when."""

    locked: bool  # False: only throttled (wait a few seconds)
    until: dt.datetime


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()[:254]


def _keys(email: str, ip: str | None) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if email:
        keys.append((LockScope.EMAIL, email))
    if ip:
        keys.append((LockScope.IP, ip))
    return keys


def _failures(scope: str, key: str, *, now: dt.datetime, pol: Policy) -> list[dt.datetime]:
    """Failure times that count towards a new lock: within the window and after the last lock."""
    since = now - pol.window
    last_lock = Lockout.objects.filter(scope=scope, key=key).aggregate(m=Max("started_at"))["m"]
    if last_lock is not None and last_lock > since:
        since = last_lock
    field = "email" if scope == LockScope.EMAIL else "ip"
    return list(
        AuthFailure.objects.filter(**{field: key}, at__gt=since)
        .order_by("-at")
        .values_list("at", flat=True)
    )


def refusal(*, email: str, ip: str | None, now: dt.datetime | None = None) -> Refusal | None:
    """Whether an attempt for ``email`` from ``ip`` must be refused without checking it."""
    now = now or timezone.now()
    pol = policy()
    email = normalise_email(email)
    for scope, key in _keys(email, ip):
        lock = (
            Lockout.objects.filter(scope=scope, key=key, lifted_at__isnull=True, until__gt=now)
            .order_by("-until")
            .first()
        )
        if lock is not None:
            return Refusal(locked=True, until=lock.until)
    for scope, key in _keys(email, ip):
        failures = _failures(scope, key, now=now, pol=pol)
        excess = len(failures) - pol.throttle_after
        if excess >= 0 and pol.throttle_base_seconds > 0:
            wait_until = failures[0] + dt.timedelta(seconds=pol.throttle_base_seconds * 2**excess)
            if wait_until > now:
                return Refusal(locked=False, until=wait_until)
    return None


def note_failure(
    *,
    email: str,
    ip: str | None,
    stage: AuthStage,
    user: User | None = None,
    now: dt.datetime | None = None,
) -> Lockout | None:
    """Record a failed attempt (and its audit event); lock what reached the threshold."""
    now = now or timezone.now()
    pol = policy()
    email = normalise_email(email)
    created: Lockout | None = None
    with transaction.atomic():
        AuthFailure.objects.create(at=now, email=email, ip=ip or None, stage=stage)
        audit.record(
            action="auth.login_failed",
            actor=Actor(label=email or "?", ip=ip),
            target=user,
            after={"email": email, "stage": str(stage)},
            at=now,
        )
        for scope, key in _keys(email, ip):
            threshold = pol.ip_threshold if scope == LockScope.IP else pol.threshold
            if len(_failures(scope, key, now=now, pol=pol)) < threshold:
                continue
            if Lockout.objects.filter(
                scope=scope, key=key, lifted_at__isnull=True, until__gt=now
            ).exists():
                continue
            lock = Lockout.objects.create(
                scope=scope, key=key, started_at=now, until=now + pol.duration
            )
            audit.record(
                action="auth.locked",
                actor=Actor(label="portal", ip=ip),
                target=lock,
                after={"scope": str(scope), "key": key, "until": lock.until},
                at=now,
            )
            created = created or lock
    return created


def forget_failures(*, email: str) -> None:
    """A complete sign-in wipes the slate for the account (not for the IP address)."""
    AuthFailure.objects.filter(email=normalise_email(email)).delete()


def unlock(
    *,
    email: str | None = None,
    ip: str | None = None,
    actor: Actor = NOBODY,
    now: dt.datetime | None = None,
) -> int:
    """Lift the active locks on ``email`` and/or ``ip``; returns how many were lifted."""
    now = now or timezone.now()
    keys = _keys(normalise_email(email or ""), ip)
    lifted = 0
    with transaction.atomic():
        for scope, key in keys:
            locks = Lockout.objects.select_for_update().filter(
                scope=scope, key=key, lifted_at__isnull=True, until__gt=now
            )
            for lock in locks:
                lift(lock, actor=actor, now=now)
                lifted += 1
            # The failures that led to the lock would otherwise throttle the next attempt.
            field = "email" if scope == LockScope.EMAIL else "ip"
            AuthFailure.objects.filter(**{field: key}, at__lte=now).delete()
    return lifted


def lift(
    lock: Lockout,
    *,
    actor: Actor = NOBODY,
    now: dt.datetime | None = None,
) -> None:
    now = now or timezone.now()
    if lock.lifted_at is not None:
        return
    with transaction.atomic():
        lock.lifted_at = now
        lock.lifted_by = actor.user
        lock.save(update_fields=["lifted_at", "lifted_by"])
        audit.record(
            action="auth.unlocked",
            actor=actor,
            target=lock,
            before={"until": lock.until},
            after={"lifted_at": now, "scope": lock.scope, "key": lock.key},
            at=now,
        )
