"""Every data call of a sync inside ADICT's bounds, and refused or failed calls backing off."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from grdf_access import simulator
from grdf_access.adict_gateway import GatewayError
from grdf_access.models import FetchBackoff
from grdf_access.sync import SERIES, backoff_delay, full_sync, sync_data
from hub.clock import PARIS
from hub.models import Series
from tests.grdf_access.conftest import NOW, PCE_ID, TODAY, active_right, counters

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


class Recording:
    """The gateway, with every dated data call written down."""

    def __init__(self, gateway: Any, *, fail: GatewayError | None = None) -> None:
        self.gateway = gateway
        self.fail = fail
        self.calls: list[tuple[str, str, dt.date, dt.date]] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.gateway, name)
        if name not in ("published", "informative_daily", "informative_hourly"):
            return attribute

        def call(*, pce: str, start: dt.date, end: dt.date) -> Any:
            self.calls.append((name, pce, start, end))
            if self.fail is not None:
                raise self.fail
            return attribute(pce=pce, start=start, end=end)

        return call


def sync(tenant, gateway, *, now: dt.datetime = NOW, **kwargs: Any):
    return sync_data(
        organisation=tenant.organisation,
        gateway=gateway,
        now=now,
        today=now.astimezone(PARIS).date(),
        **kwargs,
    )


@pytest.mark.parametrize(
    "data_end", [dt.date(2026, 10, 15), TODAY - dt.timedelta(days=1), TODAY, dt.date(2027, 6, 30)]
)
def test_a_sync_never_asks_past_the_range_or_today(tenant, gateway, data_end: dt.date) -> None:
    """Reference grdf-adict.md §1.3: "date_fin ≤ today"; §1.4: the right's range is
    perim_donnees_conso_debut/_fin, which GRDF checks the call against. A range that ended
    before today is asked up to its end, not one day beyond; the simulator counts none outside."""
    active_right(tenant, data_start=dt.date(2026, 9, 1), data_end=data_end)
    recording = Recording(gateway)
    report = sync(tenant, recording, force=True)
    assert report.failed == 0, report.errors
    assert {c[0] for c in recording.calls} == {"published", "informative_daily"}
    for _, _, start, end in recording.calls:
        assert start == dt.date(2026, 9, 1)
        assert end == min(data_end, TODAY)
    assert counters()["outside_consent"] == 0, counters()["outside_consent_log"]


def test_a_range_starting_in_the_future_asks_no_data(tenant, gateway) -> None:
    """§1.3: "date_debut < date_fin; date_fin ≤ today": days not yet begun cannot be asked."""
    active_right(tenant, data_start=dt.date(2026, 12, 1), data_end=dt.date(2027, 6, 30))
    recording = Recording(gateway)
    report = sync(tenant, recording, force=True)
    assert recording.calls == [] and report.failed == 0
    assert counters()["data_requests"] == report.tasks
    assert counters()["outside_consent"] == 0


def test_a_range_ended_yesterday_with_a_running_consent_repeats_no_refusal(tenant, gateway) -> None:
    """The case seen against an independent ADICT: hourly syncs of a right whose range ended
    before today. Every call stays within §1.3/§1.4, so nothing is refused, sync after sync."""
    active_right(
        tenant,
        data_start=dt.date(2026, 8, 1),
        data_end=dt.date(2026, 10, 31),
        consent_end=dt.date(2027, 6, 30),
    )
    for hour in range(3):
        report = sync(tenant, gateway, now=NOW + hour * HOUR, force=True)
        assert report.failed == 0, report.errors
    assert counters()["outside_consent"] == 0, counters()["outside_consent_log"]


def test_a_refused_call_backs_off_instead_of_repeating_every_hour(tenant, gateway) -> None:
    """GRDF refuses the data of a right the holder revoked (§1.7: 1000014 "holder revoked").
    Before the hub learns of it, the refused call must not be repeated by every hourly sync."""
    right = active_right(tenant, types=("informatives",))
    simulator.revoke_by_holder(right.grdf_id)  # the hub does not know yet
    first = sync(tenant, gateway)
    assert first.failed == 1
    assert counters()["outside_consent"] == 1
    backoff = FetchBackoff.objects.get(pce__metering_point__identifier=PCE_ID)
    assert backoff.refused and backoff.failures == 1
    assert backoff.next_attempt_at == NOW + dt.timedelta(days=1)
    for hour in range(1, 24):
        later = sync(tenant, gateway, now=NOW + hour * HOUR, force=True)
        assert later.tasks == 0 and later.deferred == 1
    assert counters()["outside_consent"] == 1
    # Once the back-off has passed it is asked again, and waits twice as long after.
    simulator.set_now(NOW + dt.timedelta(days=1))
    again = sync(tenant, gateway, now=NOW + dt.timedelta(days=1))
    assert again.tasks == 1, again
    assert counters()["outside_consent"] == 2
    backoff.refresh_from_db()
    assert backoff.failures == 2
    assert backoff.next_attempt_at == NOW + dt.timedelta(days=3)


def test_learning_the_revocation_clears_the_back_off_and_stops_the_calls(tenant, gateway) -> None:
    right = active_right(tenant, types=("informatives",))
    simulator.revoke_by_holder(right.grdf_id)
    sync(tenant, gateway)
    report = full_sync(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY)
    assert report.rights_changed == 1 and report.data.tasks == 0
    assert not FetchBackoff.objects.exists()
    assert counters()["outside_consent"] == 1


def test_a_failed_call_backs_off_then_clears_on_success(tenant, gateway) -> None:
    """A call GRDF could not answer (5xx after retries, network) waits 2 h, then 4 h, …"""
    active_right(tenant, types=("informatives",))
    down = Recording(gateway, fail=GatewayError("GRDF indisponible", status=503))
    assert sync(tenant, down).failed == 1
    backoff = FetchBackoff.objects.get()
    assert not backoff.refused and backoff.next_attempt_at == NOW + 2 * HOUR
    assert sync(tenant, down, now=NOW + HOUR, force=True).deferred == 1
    assert len(down.calls) == 1
    sync(tenant, down, now=NOW + 2 * HOUR)
    assert len(down.calls) == 2
    backoff.refresh_from_db()
    assert backoff.failures == 2 and backoff.next_attempt_at == NOW + 6 * HOUR
    report = sync(tenant, gateway, now=NOW + 6 * HOUR)
    assert report.failed == 0 and report.points > 0
    assert not FetchBackoff.objects.exists()


def test_back_off_doubles_and_is_capped() -> None:
    assert [backoff_delay(failures=n, refused=False).total_seconds() / 3600 for n in (1, 2, 3)] == [
        2,
        4,
        8,
    ]
    assert backoff_delay(failures=10, refused=False) == dt.timedelta(days=7)
    assert backoff_delay(failures=10, refused=True) == dt.timedelta(days=7)


def test_hourly_data_are_asked_only_with_rsf(tenant, gateway, settings) -> None:
    """Reference grdf-adict.md §3.4: "ADICT v2 Swagger (1.6) exposes no hourly endpoint"."""
    active_right(tenant, types=("informatives",), hourly=True)
    recording = Recording(gateway)
    sync(tenant, recording, force=True)
    assert {c[0] for c in recording.calls} == {"informative_daily"}
    settings.GRDF_RSF = True
    recording = Recording(gateway)
    sync(tenant, recording, now=NOW + HOUR, force=True)
    assert "informative_hourly" in {c[0] for c in recording.calls}


def test_series_exist_only_for_the_types_each_consent_allows(tenant, gateway) -> None:
    """Seed 000 ("Conformité réglementaire & RGPD"): data of a type are reached only when
    the right grants it. A PCE whose right grants published data only gets no daily series,
    even when another PCE of the same sync has daily data."""
    active_right(tenant, types=("publiees", "informatives"))
    active_right(tenant, pce="GI999001", types=("publiees",))
    sync(tenant, gateway, force=True)
    quantities = {
        pce: set(
            Series.objects.filter(metering_point__identifier=pce).values_list("quantity", flat=True)
        )
        for pce in (PCE_ID, "GI999001")
    }
    assert SERIES["daily_energy"].quantity in quantities[PCE_ID]
    assert quantities["GI999001"] and all("daily" not in q for q in quantities["GI999001"])
