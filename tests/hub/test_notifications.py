"""Notifications: stored, e-mailed, deduplicated while open, closable from the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from hub.models import Notification, Severity
from hub.services.notifications import Notice, UnknownSeverity, notify, notify_many, resolve

NOW = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_notify_stores_and_mails_named_recipients(tenant, on_commit):
    with on_commit(execute=True):
        n = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="PREAVIS en cours",
            body="Dépassement annoncé",
            emails=["Ops@Acme.example"],
            now=NOW,
        )
    assert n.emailed_to == ["ops@acme.example"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@acme.example"]
    assert "PREAVIS en cours" in mail.outbox[0].subject


def test_critical_also_mails_the_organisation_admins(tenant, foreign, on_commit):
    with on_commit(execute=True):
        notify(
            organisation=tenant.organisation,
            source="tic",
            kind="drift",
            title="Horloge compteur",
            severity=Severity.CRITICAL,
            now=NOW,
        )
    assert mail.outbox[0].to == [tenant.admin.email]  # not the foreign organisation's admin


def test_an_open_condition_is_not_notified_twice(tenant, on_commit):
    with on_commit(execute=True):
        first = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="A",
            dedupe_key="preavis:1",
            emails=["a@acme.example"],
            now=NOW,
        )
        again = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="A",
            dedupe_key="preavis:1",
            emails=["a@acme.example"],
            now=NOW + dt.timedelta(minutes=1),
        )
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.repeats == 1
    assert len(mail.outbox) == 1

    closed = resolve(
        organisation=tenant.organisation, source="tic", dedupe_key="preavis:1", now=NOW
    )
    assert closed is not None and closed.resolved_at == NOW
    reopened = notify(
        organisation=tenant.organisation,
        source="tic",
        kind="preavis",
        title="A",
        dedupe_key="preavis:1",
        now=NOW + dt.timedelta(hours=1),
    )
    assert reopened.pk != first.pk
    assert Notification.objects.filter(organisation=tenant.organisation).count() == 2


def test_the_same_key_in_another_organisation_is_its_own_condition(tenant, foreign):
    a = notify(
        organisation=tenant.organisation, source="s", kind="k", title="t", dedupe_key="x", now=NOW
    )
    b = notify(
        organisation=foreign.organisation, source="s", kind="k", title="t", dedupe_key="x", now=NOW
    )
    assert a.pk != b.pk


def test_unknown_severity_is_refused(tenant):
    with pytest.raises(UnknownSeverity):
        notify(
            organisation=tenant.organisation,
            source="s",
            kind="k",
            title="t",
            severity="urgent",
            now=NOW,
        )
    assert not Notification.objects.exists()


def test_resolve_without_open_condition_returns_none(tenant):
    assert resolve(organisation=tenant.organisation, source="s", dedupe_key="x", now=NOW) is None


def test_dashboard_lists_open_alerts_and_an_operator_closes_one(client, tenant, foreign):
    from tests.hub.test_portal_support import sign_in

    mine = notify(
        organisation=tenant.organisation,
        source="tic",
        kind="preavis",
        title="PREAVIS compteur A",
        now=NOW,
    )
    theirs = notify(
        organisation=foreign.organisation,
        source="tic",
        kind="preavis",
        title="PREAVIS concurrent",
        now=NOW,
    )
    sign_in(client, tenant.viewer)
    page = client.get("/").content.decode()
    assert "PREAVIS compteur A" in page and "PREAVIS concurrent" not in page
    assert "Marquer comme traitée" not in page  # viewers read only
    assert client.post(f"/notifications/{mine.pk}/close/").status_code == 403

    client.logout()
    sign_in(client, tenant.operator)
    assert client.post(f"/notifications/{theirs.pk}/close/").status_code == 404
    answer = client.post(f"/notifications/{mine.pk}/close/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.resolved_at is not None and theirs.resolved_at is None
    assert "PREAVIS compteur A" not in client.get("/").content.decode()


def _batch(tenant, foreign) -> list[Notice]:
    """Every case at once: plain, keyed, critical (admins added), the same key twice in one
    batch, a key already open, the same key in two organisations, no recipient at all."""
    return [
        Notice(
            tenant.organisation, "tic", "preavis", "Plain", body="b", emails=["Ops@Acme.example"]
        ),
        Notice(tenant.organisation, "tic", "preavis", "Keyed", dedupe_key="k:1", emails=["a@x.fr"]),
        Notice(
            tenant.organisation,
            "tic",
            "drift",
            "Critical",
            severity=Severity.CRITICAL,
            dedupe_key="k:2",
            emails=["b@x.fr"],
        ),
        Notice(tenant.organisation, "tic", "preavis", "Keyed again", dedupe_key="k:1"),
        Notice(tenant.organisation, "tic", "preavis", "Already open", dedupe_key="open"),
        Notice(foreign.organisation, "tic", "preavis", "Theirs", dedupe_key="k:1", link="/x/"),
        Notice(foreign.organisation, "tic", "drift", "Their critical", severity=Severity.CRITICAL),
        Notice(tenant.organisation, "tic", "info", "Nobody to mail", severity=Severity.WARNING),
    ]


def _outcome(now: dt.datetime) -> tuple[list[tuple], list[tuple]]:
    fields = [
        "organisation_id", "source", "kind", "severity", "title", "body", "link", "dedupe_key",
        "created_at", "last_seen_at", "repeats", "resolved_at", "emailed_to",
    ]  # fmt: skip
    rows = sorted(Notification.objects.values_list(*fields), key=repr)
    mails = [(m.subject, m.body, m.to, m.from_email) for m in mail.outbox]
    return rows, mails


def _state(notification: Notification) -> tuple[str, int]:
    stored = Notification.objects.get(pk=notification.pk)
    return stored.title, stored.repeats


def _open_one(tenant) -> None:
    notify(
        organisation=tenant.organisation,
        source="tic",
        kind="preavis",
        title="Already open",
        dedupe_key="open",
        emails=["c@x.fr"],
        now=NOW - dt.timedelta(hours=1),
    )


def test_notify_many_leaves_the_same_rows_and_mails_as_one_call_after_another(
    tenant, foreign, on_commit
):
    """Module rule: a condition still open is not notified twice (only its repeat is counted);
    critical ones also go to the organisation's admins. The batch must do exactly that."""
    later = NOW + dt.timedelta(minutes=5)
    _open_one(tenant)
    with on_commit(execute=True):
        one_by_one = [
            notify(
                organisation=n.organisation,
                source=n.source,
                kind=n.kind,
                title=n.title,
                body=n.body,
                severity=n.severity,
                dedupe_key=n.dedupe_key,
                link=n.link,
                emails=n.emails,
                now=later,
            )
            for n in _batch(tenant, foreign)
        ]
    expected = _outcome(later)
    expected_returned = [_state(n) for n in one_by_one]

    Notification.objects.all().delete()
    mail.outbox.clear()
    _open_one(tenant)
    with on_commit(execute=True):
        bulk = notify_many(notices=_batch(tenant, foreign), now=later)

    assert _outcome(later) == expected
    assert [_state(n) for n in bulk] == expected_returned
    assert [(n.title, n.repeats) for n in bulk] == [_state(n) for n in bulk]  # not stale
    assert all(n.pk is not None for n in bulk)
    assert bulk[1].pk == bulk[3].pk  # the repeat within the batch is the first one's row
    assert mail.outbox[2].to == sorted([tenant.admin.email, "b@x.fr"])


def test_notify_many_counts_a_repeat_of_a_condition_opened_meanwhile(tenant, on_commit):
    """Another worker opened the condition first: the batch counts the repeat, mails nobody."""
    with on_commit(execute=True):
        _open_one(tenant)
    with on_commit(execute=True):
        [n] = notify_many(
            notices=[Notice(tenant.organisation, "tic", "preavis", "X", dedupe_key="open")],
            now=NOW,
        )
    assert n.title == "Already open" and n.repeats == 1 and n.last_seen_at == NOW
    assert len(mail.outbox) == 1  # the first opening's e-mail only


def test_notify_many_sends_nothing_before_commit_and_refuses_unknown_severity(tenant, on_commit):
    with on_commit(execute=False) as callbacks:
        notify_many(
            notices=[Notice(tenant.organisation, "s", "k", "t", emails=["a@x.fr"])], now=NOW
        )
    assert len(callbacks) == 1 and mail.outbox == []
    with pytest.raises(UnknownSeverity):
        notify_many(
            notices=[Notice(tenant.organisation, "s", "k", "t", severity="urgent")], now=NOW
        )
    assert Notification.objects.count() == 1
