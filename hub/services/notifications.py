"""Notifications: the one way an app tells an organisation's people that something needs them.

A notification is stored (the portal lists it) and e-mailed: to the addresses the caller names
(a contract's contacts, a threshold's recipients) and, for critical ones, to the organisation's
admins too. A condition that is still open is not notified twice: raising the same
``dedupe_key`` again only counts the repeat until ``resolve`` closes it. ``notify_many`` does the
same for a batch in a few statements (a poll telling of hundreds of new versions).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection, send_mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import IntegrityError, connection, transaction

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


@dataclass(frozen=True)
class Notice:
    """One notification to raise with :func:`notify_many` (the arguments of :func:`notify`)."""

    organisation: Organisation
    source: str
    kind: str
    title: str
    body: str = ""
    severity: str = Severity.INFO
    dedupe_key: str = ""
    link: str = ""
    emails: Sequence[str] = ()


def notify_many(*, notices: Sequence[Notice], now: dt.datetime) -> list[Notification]:
    """:func:`notify` each of ``notices``, in order, with the same rows and e-mails.

    On PostgreSQL the keyed ones go in one ``INSERT … ON CONFLICT`` on the open-condition
    index (an open condition counts the repeat, whoever opened it, even a concurrent worker),
    the others in one bulk INSERT; the admins of critical ones are read in one query and every
    e-mail is sent once the transaction commits, over one mail connection. Returns, for each
    notice, its new notification or the open one whose repeat was counted.
    """
    severities = set(Severity.values)
    for notice in notices:
        if notice.severity not in severities:
            raise UnknownSeverity(
                f"severity must be one of {Severity.values}, not {notice.severity!r}"
            )
    if not notices:
        return []
    if connection.vendor != "postgresql":
        results = [_notify_one(notice, now=now) for notice in notices]
        # Two notices of one condition: the repeat was counted on a later copy of the row
        # than the one returned for the first; every caller gets the row as it ends.
        final = Notification.objects.in_bulk([n.pk for n in results])
        return [final[n.pk] for n in results]
    admins = _admin_emails(
        organisation_ids={n.organisation.pk for n in notices if n.severity == Severity.CRITICAL}
    )
    with transaction.atomic():
        results, created = _insert_many(notices, admins=admins, now=now)
    mails = [(n, n.emailed_to) for n in created if n.emailed_to]
    if mails:
        transaction.on_commit(lambda: _send_all(mails))
    return results


def _notify_one(notice: Notice, *, now: dt.datetime) -> Notification:
    return notify(
        organisation=notice.organisation,
        source=notice.source,
        kind=notice.kind,
        title=notice.title,
        body=notice.body,
        severity=notice.severity,
        dedupe_key=notice.dedupe_key,
        link=notice.link,
        emails=notice.emails,
        now=now,
    )


_Key = tuple[int, str, str]


def _insert_many(
    notices: Sequence[Notice], *, admins: dict[int, set[str]], now: dt.datetime
) -> tuple[list[Notification], list[Notification]]:
    """(the notification of each notice, those newly created)."""

    def build(notice: Notice) -> Notification:
        recipients = {e.strip().lower() for e in notice.emails if e and e.strip()}
        if notice.severity == Severity.CRITICAL:
            recipients |= admins.get(notice.organisation.pk, set())
        return Notification(
            organisation=notice.organisation,
            source=notice.source,
            kind=notice.kind,
            severity=notice.severity,
            title=notice.title[:200],
            body=notice.body,
            link=notice.link,
            dedupe_key=notice.dedupe_key,
            created_at=now,
            last_seen_at=now,
            emailed_to=sorted(recipients),
        )

    def key(notice: Notice) -> _Key:
        return (notice.organisation.pk, notice.source, notice.dedupe_key)

    # The first notice of a key in the batch is the one inserted; later ones only repeat it.
    keyed: dict[_Key, Notification] = {}
    for notice in notices:
        if notice.dedupe_key and key(notice) not in keyed:
            keyed[key(notice)] = build(notice)
    plain = [build(n) for n in notices if not n.dedupe_key]
    Notification.objects.bulk_create(plain)
    created: list[Notification] = list(plain)
    by_key: dict[_Key, Notification] = {}
    if keyed:
        inserted, repeated = _upsert(list(keyed.values()))
        for k, pk in inserted.items():
            keyed[k].pk = pk
            by_key[k] = keyed[k]
        created += [keyed[k] for k in keyed if k in inserted]
        if repeated:
            for row in Notification.objects.select_related("organisation").filter(
                pk__in=repeated.values()
            ):
                by_key[(row.organisation_id, row.source, row.dedupe_key)] = row
    extra = Counter(key(n) for n in notices if n.dedupe_key)
    for k, count in extra.items():
        if count > 1:  # the same condition raised again within the batch: counted, not mailed
            by_key[k] = _count_repeats(by_key[k], count - 1, now=now)
    plain_iter = iter(plain)
    results = [by_key[key(n)] if n.dedupe_key else next(plain_iter) for n in notices]
    # E-mailed in the order of the notices, as one call after another would have.
    fresh = {id(n) for n in created}
    mailed: list[Notification] = []
    for notification in results:
        if id(notification) in fresh:
            fresh.discard(id(notification))
            mailed.append(notification)
    return results, mailed


def _upsert(rows: list[Notification]) -> tuple[dict[_Key, int], dict[_Key, int]]:
    """INSERT the keyed rows; an open one of the same key counts a repeat instead.

    Returns (key -> pk inserted, key -> pk of the open one repeated). A new row has no repeat
    yet; the conflict branch always adds one, so ``repeats`` tells them apart.
    """
    table = Notification._meta.db_table
    columns = [
        "organisation_id",
        "source",
        "kind",
        "severity",
        "title",
        "body",
        "link",
        "dedupe_key",
        "created_at",
        "last_seen_at",
        "repeats",
        "emailed_to",
    ]
    # One jsonb parameter expanded by the server: a VALUES list of twelve placeholders a row
    # cost more to quote client-side than the rest of a 10,000-contract poll's notices.
    values = [
        {
            "organisation_id": row.organisation_id,
            "source": row.source,
            "kind": row.kind,
            "severity": row.severity,
            "title": row.title,
            "body": row.body,
            "link": row.link,
            "dedupe_key": row.dedupe_key,
            "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
            "repeats": 0,
            "emailed_to": row.emailed_to,
        }
        for row in rows
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)}"
        f" FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb)"
        # The conflict target is the partial unique index "notification_one_open_per_key".
        " ON CONFLICT (organisation_id, source, dedupe_key)"
        " WHERE resolved_at IS NULL AND NOT (dedupe_key = '')"
        f" DO UPDATE SET repeats = {table}.repeats + 1,"
        f" last_seen_at = GREATEST({table}.last_seen_at, EXCLUDED.last_seen_at)"
        " RETURNING id, organisation_id, source, dedupe_key, repeats"
    )
    inserted: dict[_Key, int] = {}
    repeated: dict[_Key, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(values, separators=(",", ":"))])
        for pk, organisation_id, source, dedupe_key, repeats in cursor.fetchall():
            target = inserted if repeats == 0 else repeated
            target[(organisation_id, source, dedupe_key)] = pk
    return inserted, repeated


def _count_repeats(notification: Notification, count: int, *, now: dt.datetime) -> Notification:
    notification.repeats += count
    notification.last_seen_at = max(now, notification.last_seen_at)
    notification.save(update_fields=["repeats", "last_seen_at"])
    return notification


def _admin_emails(*, organisation_ids: set[int]) -> dict[int, set[str]]:
    admins: dict[int, set[str]] = {}
    if not organisation_ids:
        return admins
    for organisation_id, email in Membership.objects.filter(
        organisation_id__in=organisation_ids, role=Role.ADMIN, user__is_active=True
    ).values_list("organisation_id", "user__email"):
        admins.setdefault(organisation_id, set()).add(email)
    return admins


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


def resolve_outdated(
    *,
    organisation: Organisation,
    source: str,
    prefix: str,
    current: Iterable[str],
    now: dt.datetime,
) -> int:
    """Close the open notifications whose key starts with ``prefix`` but is none of ``current``:
    conditions that no longer hold (a threshold back under its level, a period gone by)."""
    return (
        Notification.objects.filter(
            organisation=organisation,
            source=source,
            dedupe_key__startswith=prefix,
            resolved_at__isnull=True,
        )
        .exclude(dedupe_key__in=list(current))
        .update(resolved_at=now)
    )


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


def _send_all(mails: list[tuple[Notification, list[str]]]) -> None:
    """Each notification's e-mail, over one connection to the mail server."""
    try:
        with get_connection() as mail_connection:
            for notification, recipients in mails:
                _send(notification, recipients, mail_connection=mail_connection)
    except Exception:
        logger.exception("notification e-mails failed", extra={"count": len(mails)})


def _send(
    notification: Notification,
    recipients: list[str],
    *,
    mail_connection: BaseEmailBackend | None = None,
) -> None:
    link = f"\n\n{settings.HUB_PUBLIC_URL}{notification.link}" if notification.link else ""
    try:
        if mail_connection is None:
            send_mail(
                subject=f"[{notification.organisation.name}] {notification.title}",
                message=f"{notification.body}{link}",
                from_email=None,
                recipient_list=recipients,
            )
        else:
            EmailMessage(
                subject=f"[{notification.organisation.name}] {notification.title}",
                body=f"{notification.body}{link}",
                to=recipients,
                connection=mail_connection,
            ).send()
    except Exception:
        # A mail server outage must not lose the alert: it stays in the portal, and the log says.
        logger.exception("notification e-mail failed", extra={"notification": notification.pk})
