"""Notifications: the one way an app tells an organisation's people that something needs them.

A notification is stored (the portal lists it) and e-mailed: to the addresses the caller names
(a contract's contacts, a threshold's recipients) and, for critical ones, to the organisation's
admins too. A condition that is still open is not notified twice: raising the same
``dedupe_key`` again only counts the repeat until ``resolve`` closes it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from hub.models import Membership, Notification, Organisation, Role, Severity

logger = logging.getLogger(__name__)


class UnknownSeverity(ValueError):
    pass


def notify(
    *,
    organisation: Organisation,
    source: str,
    kind: str,
    title: str,
    body: str = "",
    severity: str = Severity.INFO,
    dedupe_key: str = "",
    link: str = "",
    emails: Sequence[str] = (),
    now: dt.datetime,
) -> Notification:
    """Store a notification and e-mail it, unless the same condition is already open.

    Returns the new notification, or the open one whose repeat was counted.
    """
    if severity not in Severity.values:
        raise UnknownSeverity(f"severity must be one of {Severity.values}, not {severity!r}")
    if dedupe_key:
        existing = _open(organisation=organisation, source=source, dedupe_key=dedupe_key)
        if existing is not None:
            return _count_repeat(existing, now=now)
    recipients = _recipients(organisation=organisation, severity=severity, emails=emails)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                organisation=organisation,
                source=source,
                kind=kind,
                severity=severity,
                title=title[:200],
                body=body,
                link=link,
                dedupe_key=dedupe_key,
                created_at=now,
                last_seen_at=now,
                emailed_to=recipients,
            )
    except IntegrityError:
        # Another worker opened the same condition between our check and our insert.
        existing = _open(organisation=organisation, source=source, dedupe_key=dedupe_key)
        if existing is None:
            raise
        return _count_repeat(existing, now=now)
    if recipients:
        transaction.on_commit(lambda: _send(notification, recipients))
    return notification


def resolve(
    *, organisation: Organisation, source: str, dedupe_key: str, now: dt.datetime
) -> Notification | None:
    """Close the open notification of a condition (it may then be raised again)."""
    existing = _open(organisation=organisation, source=source, dedupe_key=dedupe_key)
    if existing is None:
        return None
    existing.resolved_at = now
    existing.save(update_fields=["resolved_at"])
    return existing


def _open(*, organisation: Organisation, source: str, dedupe_key: str) -> Notification | None:
    return Notification.objects.filter(
        organisation=organisation, source=source, dedupe_key=dedupe_key, resolved_at__isnull=True
    ).first()


def _count_repeat(notification: Notification, *, now: dt.datetime) -> Notification:
    notification.repeats += 1
    notification.last_seen_at = max(now, notification.last_seen_at)
    notification.save(update_fields=["repeats", "last_seen_at"])
    return notification


def _recipients(*, organisation: Organisation, severity: str, emails: Sequence[str]) -> list[str]:
    recipients = {e.strip().lower() for e in emails if e and e.strip()}
    if severity == Severity.CRITICAL:
        recipients.update(
            Membership.objects.filter(
                organisation=organisation, role=Role.ADMIN, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    return sorted(recipients)


def _send(notification: Notification, recipients: list[str]) -> None:
    link = f"\n\n{settings.HUB_PUBLIC_URL}{notification.link}" if notification.link else ""
    try:
        send_mail(
            subject=f"[{notification.organisation.name}] {notification.title}",
            message=f"{notification.body}{link}",
            from_email=None,
            recipient_list=recipients,
        )
    except Exception:
        # A mail server outage must not lose the alert: it stays in the portal, and the log says.
        logger.exception("notification e-mail failed", extra={"notification": notification.pk})
