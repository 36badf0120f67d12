"""Data sync against the simulator: only inside consent, DST gas days, quality, thresholds."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command

from grdf_access import client as adict
from grdf_access import simulator, thresholds
from grdf_access.models import Pce, Snapshot, Threshold
from grdf_access.purge import purge
from grdf_access.selectors import long_estimated
from grdf_access.sync import SERIES, full_sync, series_ids, sync_data
from hub.clock import PARIS, gas_day_bounds, gas_day_of
from hub.models import Notification, Point, PollOutcome, PollRun, Quality, Series
from hub.services.series import upsert_rows
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters

pytestmark = pytest.mark.django_db


def points(pce: str, key: str) -> list[Point]:
    series = Series.objects.get(
        metering_point__identifier=pce, quantity=SERIES[key].quantity, source="grdf"
    )
    return list(Point.objects.filter(series=series).order_by("ts"))


def run(tenant: Tenant, gateway: Any, *, now: dt.datetime = NOW, **kwargs: Any):
    today = now.astimezone(PARIS).date()
    return sync_data(
        organisation=tenant.organisation, gateway=gateway, now=now, today=today, **kwargs
    )


def test_daily_data_stored_at_gas_day_start_with_dst_days(tenant, gateway) -> None:
    active_right(tenant)
    report = run(tenant, gateway, force=True)
    assert report.failed == 0 and report.points > 0
    daily = {gas_day_of(p.ts): p for p in points(PCE_ID, "daily_energy")}
    # Every gas day of the range up to yesterday, each at 06:00 Paris time.
    assert min(daily) == dt.date(2026, 1, 1) and max(daily) == dt.date(2026, 11, 1)
    assert len(daily) == (dt.date(2026, 11, 2) - dt.date(2026, 1, 1)).days
    for day in (dt.date(2026, 3, 29), dt.date(2026, 10, 25), dt.date(2026, 6, 1)):
        assert daily[day].ts == gas_day_bounds(day)[0]
    # 06:00 in Paris is 05:00 UTC in winter and 04:00 UTC in summer.
    assert daily[dt.date(2026, 3, 28)].ts == dt.datetime(2026, 3, 28, 5, tzinfo=dt.UTC)
    assert daily[dt.date(2026, 3, 29)].ts == dt.datetime(2026, 3, 29, 4, tzinfo=dt.UTC)
    assert daily[dt.date(2026, 10, 24)].ts == dt.datetime(2026, 10, 24, 4, tzinfo=dt.UTC)
    assert daily[dt.date(2026, 10, 25)].ts == dt.datetime(2026, 10, 25, 5, tzinfo=dt.UTC)
    volumes = points(PCE_ID, "daily_volume")
    assert len(volumes) == len(daily)
    # The meter index is read at the end of each gas day, and it only goes up.
    indexes = points(PCE_ID, "daily_index")
    assert [p.ts for p in indexes[:2]] == [
        daily[dt.date(2026, 1, 2)].ts,
        daily[dt.date(2026, 1, 3)].ts,
    ]
    assert all(a.value <= b.value for a, b in itertools.pairwise(indexes))
    assert counters()["outside_consent"] == 0
    # Snapshots of contractual and technical data, which also teach the meter's frequency.
    assert Snapshot.objects.filter(pce__metering_point__identifier=PCE_ID).count() == 2
    assert Pce.objects.get(metering_point__identifier=PCE_ID).frequency in ("JJ", "MM")
    run_row = PollRun.objects.filter(source="grdf").latest("started_at")
    assert run_row.outcome == PollOutcome.SUCCESS and run_row.items_stored == report.points + 2


def test_hourly_data_have_23_and_25_hours_on_dst_gas_days(tenant, gateway, settings) -> None:
    settings.GRDF_RSF = True  # hourly data exist only with RSF
    active_right(tenant, hourly=True, data_start=dt.date(2026, 3, 27))
    run(tenant, gateway, types={"informatives_horaires"}, force=True)
    hourly = points(PCE_ID, "hourly_energy")
    # The gas day starting 28 March at 06:00 holds the spring change: 23 hours; the one
    # starting 24 October holds the autumn change: 25 hours.
    per_gas_day = Counter(gas_day_of(p.ts) for p in hourly)
    assert per_gas_day[dt.date(2026, 3, 27)] == 24
    assert per_gas_day[dt.date(2026, 3, 28)] == 23
    assert per_gas_day[dt.date(2026, 3, 29)] == 24
    assert per_gas_day[dt.date(2026, 10, 24)] == 25
    assert per_gas_day[dt.date(2026, 10, 25)] == 24
    # And the local days of the changes, midnight to midnight: 23 and 25 hours.
    per_local_day = Counter(p.ts.astimezone(PARIS).date() for p in hourly)
    assert per_local_day[dt.date(2026, 3, 29)] == 23
    assert per_local_day[dt.date(2026, 10, 25)] == 25
    assert not PollRun.objects.filter(source="grdf", outcome=PollOutcome.PARTIAL).exists()


def test_no_request_outside_consent(tenant, gateway) -> None:
    # Data range starts in June, informative data not granted, and another PCE's consent
    # is over: nothing is asked outside, and the simulator (which counts) agrees.
    active_right(tenant, data_start=dt.date(2026, 6, 1), types=("publiees", "techniques"))
    active_right(
        tenant,
        pce="GI999001",
        consent_start=dt.date(2025, 1, 1),
        consent_end=dt.date(2026, 10, 31),
        data_start=dt.date(2025, 1, 1),
        data_end=dt.date(2026, 10, 31),
    )
    report = run(tenant, gateway, force=True)
    sent = counters()
    assert sent["data_requests"] == report.tasks == 2  # published and technical, first PCE
    assert sent["outside_consent"] == 0, sent["outside_consent_log"]
    published = points(PCE_ID, "published_energy")
    assert published and min(p.ts for p in published) >= gas_day_bounds(dt.date(2026, 6, 1))[0]
    assert not Series.objects.filter(quantity=SERIES["daily_energy"].quantity).exists()


def test_definitive_values_replace_provisional_ones(tenant, gateway) -> None:
    active_right(tenant)
    run(tenant, gateway, types={"informatives_journalieres"})
    october = {gas_day_of(p.ts): p for p in points(PCE_ID, "daily_energy")}
    assert october[dt.date(2026, 10, 20)].provisional
    assert not october[dt.date(2026, 9, 20)].provisional
    later = NOW + dt.timedelta(days=18)  # October is published: its days turn definitive
    simulator.set_now(later)
    run(tenant, gateway, now=later, types={"informatives_journalieres"})
    after = {gas_day_of(p.ts): p for p in points(PCE_ID, "daily_energy")}
    assert not after[dt.date(2026, 10, 20)].provisional
    assert after[dt.date(2026, 11, 15)].provisional


def _record(
    pce: str, start: dt.datetime, end: dt.datetime, energy: float | None, day: dt.date
) -> adict.ConsumptionRecord:
    return adict.ConsumptionRecord(
        pce=pce,
        kind=adict.DataType.INFORMATIVE,
        start=start,
        end=end,
        gas_day=day,
        raw_volume_m3=9.0,
        converted_volume_m3=None,
        energy_kwh=energy,
        pta_coefficient=None,
        pcs=None,
        conversion_coefficient=None,
        qualification="Mesuré",
        status="Définitive",
        type_label="",
        flow="",
        zero_reset=None,
        start_reading=None,
        end_reading=None,
        period_label="",
        publication_start=None,
        publication_end=None,
        publication_gas_days=None,
        raw={},
    )


class IncidentGateway:
    """GRDF publishing a file with consumption missing (seed 000's October incident)."""

    def informative_daily(
        self, *, pce: str, start: dt.date, end: dt.date
    ) -> adict.Records[adict.ConsumptionRecord]:
        readings = []
        day = start
        while day < end:
            first, last = gas_day_bounds(day)
            if day == dt.date(2026, 10, 22):
                day += dt.timedelta(days=1)
                continue  # a missing gas day
            energy = None if day == dt.date(2026, 10, 23) else 100.0
            if day == dt.date(2026, 10, 24):
                last = first + dt.timedelta(hours=24)  # 24 hours on the 25-hour gas day
            readings.append(_record(pce, first, last, energy, day))
            day += dt.timedelta(days=1)
        return adict.Records(tuple(readings))


def test_quality_checks_warn_on_the_poll_run_and_alert(tenant) -> None:
    active_right(tenant, data_start=dt.date(2026, 10, 20))
    report = sync_data(
        organisation=tenant.organisation,
        gateway=IncidentGateway(),  # type: ignore[arg-type]
        now=NOW,
        today=TODAY,
        types={"informatives_journalieres"},
        force=True,
        workers=1,
    )
    text = "\n".join(report.warnings)
    assert "1 journée(s) gazière(s) manquante(s) : 22/10/2026" in text
    assert "consommation vide pour 1 journée(s) : 23/10/2026" in text
    assert "changement d'heure ?) : 24/10/2026" in text
    poll = PollRun.objects.get(source="grdf", target="données")
    assert poll.outcome == PollOutcome.PARTIAL and "Avertissement" in poll.error
    alert = Notification.objects.get(kind="data_quality")
    assert alert.severity == "warning" and PCE_ID in alert.title
    missing = [p for p in points(PCE_ID, "daily_energy") if p.quality == Quality.MISSING]
    assert [gas_day_of(p.ts) for p in missing] == [dt.date(2026, 10, 23)]


def test_threshold_notification_by_email(
    tenant, gateway, django_capture_on_commit_callbacks
) -> None:
    right = active_right(tenant)
    Threshold.objects.create(
        organisation=tenant.organisation,
        pce=right.pce,
        frequency="monthly",
        value_kwh=1,
        notify_after=True,
        emails="energie@acme.example",
    )
    with django_capture_on_commit_callbacks(execute=True):
        run(tenant, gateway, types={"informatives_journalieres"}, force=True)
    note = Notification.objects.get(kind="threshold_exceeded")
    assert "11/2026" in note.title and PCE_ID in note.title
    assert [m.to for m in mail.outbox] == [["energie@acme.example"]]
    # The same period is not notified twice.
    with django_capture_on_commit_callbacks(execute=True):
        run(tenant, gateway, types={"informatives_journalieres"}, force=True)
    assert len(mail.outbox) == 1


def test_threshold_before_crossing(tenant) -> None:
    right = active_right(tenant)
    [sid] = series_ids([right.pce.pk], ["daily_energy"]).values()
    start = gas_day_bounds(dt.date(2026, 11, 1))[0]
    upsert_rows(rows=[(sid, start, 85.0, Quality.MEASURED, False)])
    threshold = Threshold.objects.create(
        organisation=tenant.organisation,
        pce=right.pce,
        frequency="daily",
        value_kwh=100,
        notify_before=True,
        before_percent=80,
        notify_after=False,
    )
    checks = thresholds.evaluate(
        organisation=tenant.organisation, pce_ids=[right.pce.pk], now=NOW, today=TODAY
    )
    assert [(c.threshold, c.state, c.total) for c in checks] == [(threshold, "near", 85.0)]
    assert Notification.objects.get().kind == "threshold_near"


def test_long_estimated_report(tenant) -> None:
    right = active_right(tenant)
    other = active_right(tenant, pce="GI888888")
    ids = series_ids([right.pce.pk, other.pce.pk], ["published_energy"])
    rows = []
    for month in range(1, 11):
        ts = gas_day_bounds(dt.date(2026, month, 1))[0]
        # The first PCE: measured until April, then estimated six cycles in a row.
        quality = Quality.ESTIMATED if month > 4 else Quality.MEASURED
        rows.append((ids[(right.pce.pk, "published_energy")], ts, 100.0, quality, False))
        other_quality = Quality.ESTIMATED if month in (3, 7, 10) else Quality.MEASURED
        rows.append((ids[(other.pce.pk, "published_energy")], ts, 100.0, other_quality, False))
    upsert_rows(rows=rows)
    found = long_estimated(organisation=tenant.organisation, today=TODAY)
    assert [(e.pce.identifier, e.consecutive_estimated) for e in found] == [(PCE_ID, 6)]
    assert found[0].last_measured == dt.date(2026, 4, 1)


def test_purge_removes_data_whose_consent_ended_beyond_retention(tenant, gateway) -> None:
    right = active_right(tenant)
    run(tenant, gateway, force=True)
    assert Point.objects.exists()
    assert purge(today=TODAY, now=NOW, days=30).points == 0  # consent still running
    right.state = "Revoquee"
    right.state_changed_at = NOW - dt.timedelta(days=10)
    right.save()
    assert purge(today=TODAY, now=NOW, days=30).points == 0  # within retention
    right.state_changed_at = NOW - dt.timedelta(days=40)
    right.save()
    report = purge(today=TODAY, now=NOW, days=30)
    assert report.points > 0 and report.snapshots == 2
    assert not Point.objects.filter(series__metering_point__identifier=PCE_ID).exists()


def test_grdf_sync_command(tenant, gateway, capsys) -> None:
    simulator.set_now(None)  # the command reads the wall clock: so does the simulator here
    active_right(tenant)
    active_right(tenant, pce="GI888888")
    call_command("grdf_sync", "--org", tenant.organisation.slug, "--pce", "GI888888")
    out = capsys.readouterr().out
    assert "1 rights seen" in out and "1 PCEs" in out
    assert not Series.objects.filter(metering_point__identifier=PCE_ID).exists()
    assert Series.objects.filter(metering_point__identifier="GI888888").exists()


def test_full_sync_applies_a_revocation_before_fetching(tenant, gateway) -> None:
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    report = full_sync(
        organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True
    )
    assert report.rights_changed == 1 and report.data.tasks == 0
    assert counters()["data_requests"] == 0


def test_throttled_calls_back_off_and_succeed(tenant, gateway, no_waits) -> None:
    active_right(tenant)
    simulator.set_throttle(count=2, retry_after=3)
    report = run(tenant, gateway, types={"informatives_journalieres"}, force=True, workers=1)
    assert report.failed == 0 and report.points > 0
    assert counters()["throttled"] == 2
    assert 3 in no_waits  # Retry-After honoured by the hub's HTTP client


def test_snapshot_changes_are_kept_and_audited(tenant) -> None:
    from grdf_access.sync import store_snapshot
    from hub.models import AuditEvent

    pce = active_right(tenant).pce
    first = store_snapshot(pce=pce, kind="techniques", data={"frequency": "MM"}, now=NOW)
    assert first is not None and first.changes == {}
    assert store_snapshot(pce=pce, kind="techniques", data={"frequency": "MM"}, now=NOW) is None
    later = NOW + dt.timedelta(days=7)
    second = store_snapshot(pce=pce, kind="techniques", data={"frequency": "JJ"}, now=later)
    assert second is not None and second.changes == {"frequency": ["MM", "JJ"]}
    assert Snapshot.objects.filter(pce=pce).count() == 2
    pce.refresh_from_db()
    assert pce.frequency == "JJ"
    assert AuditEvent.objects.filter(action="grdf.snapshot.changed").count() == 2
