"""Migration view and alerts: "what you must change, by when"; 90/30/7-day reminders; a moved
release date kept as history and told to its users."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access.vega import calendar
from grdf_access.vega.models import Release, ReleaseDateChange, UsageAlert
from hub.actors import Actor
from hub.clock import PARIS
from hub.models import AuditEvent, Notification

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 9, 1, 8, 0, tzinfo=PARIS).astimezone(dt.UTC)


def use(tenant, code: str, version: str):
    item = calendar.find_item(code)
    assert item is not None
    return calendar.save_usage(
        organisation=tenant.organisation,
        item=item,
        version=version,
        actor=Actor.person(tenant.operator),
        now=NOW,
    )


def date(code: str, day: dt.date, status: str = "confirmed") -> None:
    calendar.set_release_date(
        release=Release.objects.get(code=code), date=day, status=status, now=NOW
    )


def test_migration_view_names_the_release_ending_each_version(tenant):
    date("V27.1", dt.date(2027, 3, 1))
    use(tenant, "SDEM", "V14")
    use(tenant, "REJJ", "V1")
    use(tenant, "RecupererDonneesPCE", "V16")  # by its alias, without the accent
    rows = {
        r.item.code: r
        for r in calendar.migration_rows(
            organisation=tenant.organisation, today=dt.date(2026, 9, 1)
        )
    }
    sdem = rows["SDEM"]
    assert (sdem.changes_in.code, sdem.ends_in.code, sdem.days_left) == ("V26.1", "V27.1", 181)
    assert sdem.double_run == "V26.1 → V27.1" and sdem.status == "planifie"
    assert rows["REJJ"].ends_in is None and rows["REJJ"].status == "sans_fin"
    pce = rows["RecupererDonnéesPCE"]
    assert pce.ends_in.code == "V27.3" and pce.status == "date_inconnue"
    assert "26.3" in pce.replacement


def test_unknown_version_is_refused(tenant):
    item = calendar.find_item("SDEM")
    with pytest.raises(calendar.UnknownVersion, match="V14"):
        calendar.save_usage(organisation=tenant.organisation, item=item, version="V99", now=NOW)


def test_reminders_at_90_30_and_7_days_each_once(tenant):
    date("V27.1", dt.date(2027, 3, 1))
    use(tenant, "SDEM", "V14")
    sent = []
    for day in (
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 31),
        dt.date(2027, 2, 1),
        dt.date(2027, 2, 20),
        dt.date(2027, 2, 22),
        dt.date(2027, 2, 23),
    ):
        now = dt.datetime(day.year, day.month, day.day, 7, tzinfo=PARIS)
        sent.append(calendar.send_end_reminders(now=now))
    # 120 days: nothing; 90 (01/12): info; 30 (31/01): warning; 7 (22/02): critical.
    assert sent == [0, 1, 1, 0, 0, 1, 0]
    assert sorted(UsageAlert.objects.values_list("days", flat=True)) == [7, 30, 90]
    severities = list(
        Notification.objects.filter(source=calendar.SOURCE, kind="version_end")
        .order_by("created_at")
        .values_list("severity", flat=True)
    )
    assert severities == ["info", "warning", "critical"]


def test_moved_release_date_is_history_and_alerts_users(tenant, foreign):
    date("V27.1", dt.date(2027, 3, 1), status="tentative")
    use(tenant, "SDEM", "V14")
    date("V27.1", dt.date(2027, 5, 3))
    release = Release.objects.get(code="V27.1")
    assert release.planned_date == dt.date(2027, 5, 3) and release.date_status == "confirmed"
    history = list(
        ReleaseDateChange.objects.filter(release=release).values_list("previous_date", "date")
    )
    assert history == [(None, dt.date(2027, 3, 1)), (dt.date(2027, 3, 1), dt.date(2027, 5, 3))]
    [alert] = Notification.objects.filter(kind="release_moved")
    assert alert.organisation == tenant.organisation and "SDEM" in alert.body
    assert AuditEvent.objects.filter(action="grdf.vega.release.date").count() == 2
    # Setting the same date again changes nothing.
    assert (
        calendar.set_release_date(
            release=release, date=dt.date(2027, 5, 3), status="confirmed", now=NOW
        )
        is None
    )


def test_a_first_announced_date_is_told_too(tenant):
    use(tenant, "SDEM", "V14")
    date("V27.1", dt.date(2027, 3, 1), status="tentative")
    [alert] = Notification.objects.filter(kind="release_moved")
    assert "à annoncer" in alert.body and "01/03/2027" in alert.body
