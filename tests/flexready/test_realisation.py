"""Realisation from a known series: measured, baseline and delivered, across clock changes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from flexready import realisation, services
from flexready.models import Asset, FlexRequest, RequestStatus
from flexready.program import ProgramStep
from hub import quantities
from hub.models import AuditEvent
from hub.services.series import delete_points
from tests.flexready.conftest import hourly_curve, paris


def shape(local: dt.datetime) -> float:
    """A load that depends on the local hour only: 10 kW per hour of the day (0..230 kW)."""
    return 10_000.0 * local.hour


def make_request(
    asset: Asset, start: dt.datetime, end: dt.datetime, *, kw: int = 50, status: str = "confirmed"
) -> FlexRequest:
    step = ProgramStep(start, end, Decimal(kw * 1000))
    return FlexRequest.objects.create(
        asset=asset,
        request_id=f"r-{start.isoformat()}",
        flex_product="WID",
        program=[step.as_json()],
        start=start,
        end=end,
        status=status,
        received_at=start - dt.timedelta(hours=1),
    )


@pytest.fixture
def asset(annex: Any) -> Asset:
    return Asset.objects.get(bacs__bacs_id=annex[0].bacs_id, asset_id="WholeBuilding")


@pytest.mark.parametrize(
    ("day", "expected_days"),
    [
        # Monday after the spring change: the previous weekdays were on winter time.
        (
            dt.date(2026, 3, 30),
            ["2026-03-27", "2026-03-26", "2026-03-25", "2026-03-24", "2026-03-23"],
        ),
        # Monday after the autumn change: the previous weekdays were on summer time.
        (
            dt.date(2026, 10, 26),
            ["2026-10-23", "2026-10-22", "2026-10-21", "2026-10-20", "2026-10-19"],
        ),
        # The 23-hour Sunday itself: similar days are weekend days.
        (
            dt.date(2026, 3, 29),
            ["2026-03-28", "2026-03-22", "2026-03-21", "2026-03-15", "2026-03-14"],
        ),
        # The 25-hour Sunday itself.
        (
            dt.date(2026, 10, 25),
            ["2026-10-24", "2026-10-18", "2026-10-17", "2026-10-11", "2026-10-10"],
        ),
    ],
)
def test_baseline_follows_local_wall_time_across_dst(
    asset: Any, tenant: Any, day: dt.date, expected_days: list[str]
) -> None:
    def watts(local: dt.datetime) -> float:
        # On the request's day the building sheds 40 kW from 12:00 to 14:00.
        shed = 40_000 if local.date() == day and 12 <= local.hour < 14 else 0
        return shape(local) - shed

    hourly_curve(tenant.point, first=day - dt.timedelta(days=30), last=day, watts=watts)
    start = dt.datetime.combine(day, dt.time(12), tzinfo=realisation.PARIS).astimezone(dt.UTC)
    request = make_request(asset, start, start + dt.timedelta(hours=2))
    result = realisation.realise(request=request, now=start + dt.timedelta(days=1))
    assert [d.isoformat() for d in result.baseline_days] == expected_days
    assert result.complete
    # A baseline read at UTC hours would be 10 kW off after a clock change.
    assert [c.baseline_w for c in result.cells] == [Decimal(120_000), Decimal(130_000)]
    assert [c.measured_w for c in result.cells] == [Decimal(80_000), Decimal(90_000)]
    assert [c.delivered_w for c in result.cells] == [Decimal(40_000), Decimal(40_000)]
    assert result.totals["delivered"] == Decimal(80_000)  # Wh
    assert result.totals["requested"] == Decimal(100_000)


def test_days_with_other_requests_and_gaps_are_skipped(asset: Any, tenant: Any) -> None:
    day = dt.date(2026, 6, 12)  # a Friday
    series = hourly_curve(tenant.point, first=day - dt.timedelta(days=20), last=day, watts=shape)
    # Thursday had a request of its own; Wednesday's 13:00 reading is missing.
    thursday = paris(2026, 6, 11, 12)
    make_request(asset, thursday, thursday + dt.timedelta(hours=1), status="realised")
    at = paris(2026, 6, 10, 13)
    delete_points(series_ids=[series.pk], start=at, end=at + dt.timedelta(seconds=1))
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=2))
    result = realisation.realise(request=request, now=start + dt.timedelta(hours=3))
    assert [d.isoformat() for d in result.baseline_days] == [
        "2026-06-09",
        "2026-06-08",
        "2026-06-05",
        "2026-06-04",
        "2026-06-03",
    ]


def test_sub_step_request_is_prorated(asset: Any, tenant: Any) -> None:
    day = dt.date(2026, 6, 12)
    hourly_curve(tenant.point, first=day - dt.timedelta(days=10), last=day, watts=shape)
    start = paris(2026, 6, 12, 12, 50)
    request = make_request(asset, start, start + dt.timedelta(minutes=20), kw=30)
    result = realisation.realise(request=request, now=start + dt.timedelta(hours=1))
    # Two cells: 12:50-13:00 in the 12:00 hour, 13:00-13:10 in the 13:00 hour.
    assert [(c.start, c.end) for c in result.cells] == [
        (paris(2026, 6, 12, 12, 50), paris(2026, 6, 12, 13)),
        (paris(2026, 6, 12, 13), paris(2026, 6, 12, 13, 10)),
    ]
    assert result.totals["requested"] == Decimal(10_000)  # 30 kW for 20 min
    assert result.totals["delivered"] == Decimal(0)


def test_power_series_in_kilowatts_is_read_too(asset: Any, tenant: Any, settings: Any) -> None:
    from hub.models import SeriesKind
    from hub.services.series import PointIn, ensure_series, upsert_points

    series = ensure_series(
        metering_point=tenant.point,
        quantity=quantities.ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="tic",
        kind=SeriesKind.INSTANT,
        step_seconds=600,
    )
    start = paris(2026, 6, 12, 12)
    points = []
    for days_back in range(0, 8):
        t0 = start - dt.timedelta(days=days_back)
        for i in range(6):
            points.append(
                PointIn(t0 + dt.timedelta(minutes=10 * i), 70.0 if days_back == 0 else 100.0)
            )
    upsert_points(series=series, points=points)
    request = make_request(asset, start, start + dt.timedelta(hours=1))
    result = realisation.realise(request=request, now=start + dt.timedelta(hours=2))
    assert len(result.cells) == 6
    assert result.complete
    assert result.totals["delivered"] == Decimal(30_000)


def test_advance_fails_without_data_after_grace_and_realises_with(
    asset: Any, tenant: Any, settings: Any
) -> None:
    settings.FLEXREADY_DATA_GRACE_SECONDS = 3600
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=1))
    caller = services.Caller("test")
    services.advance(request=request, now=start + dt.timedelta(minutes=30), caller=caller)
    assert request.status == RequestStatus.ACTIVE
    services.advance(request=request, now=start + dt.timedelta(hours=1, minutes=30), caller=caller)
    assert request.status == RequestStatus.ACTIVE  # waiting for the meter's data
    services.advance(request=request, now=start + dt.timedelta(hours=2), caller=caller)
    assert request.status == RequestStatus.FAILED
    assert AuditEvent.objects.filter(
        object_id=str(request.pk), action="flexready.request.failed"
    ).exists()


def test_little_delivery_fails(asset: Any, tenant: Any) -> None:
    day = dt.date(2026, 6, 12)
    hourly_curve(tenant.point, first=day - dt.timedelta(days=10), last=day, watts=shape)
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=1), kw=50)
    services.advance(
        request=request, now=start + dt.timedelta(hours=2), caller=services.Caller("t")
    )
    assert request.status == RequestStatus.FAILED
    assert request.realisation is not None
    assert request.realisation["total"]["delivered"]["value"] == 0.0


def test_no_meter_is_incomplete(asset: Any) -> None:
    asset.bacs.metering_point = None
    asset.bacs.save()
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=1))
    result = realisation.realise(request=request, now=start + dt.timedelta(hours=2))
    assert not result.complete
    assert "metering point" in result.note


def test_pending_measurements_are_null_never_zero(asset: Any, tenant: Any) -> None:
    """While the meter's data of the request are not all in, measured and delivered are
    unknown: null with a status saying so, not 0.0 (which would read as "nothing delivered")."""
    day = dt.date(2026, 6, 12)
    series = hourly_curve(tenant.point, first=day - dt.timedelta(days=10), last=day, watts=shape)
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=2))
    # The meter has sent 12:00-13:00, not yet 13:00-14:00 and later.
    delete_points(series_ids=[series.pk], start=start + dt.timedelta(hours=1))
    body = realisation.realise(request=request, now=start + dt.timedelta(hours=3)).as_json()
    assert body["measurementStatus"] == "pending"
    assert body["complete"] is False
    first, second = body["steps"]
    assert first["measured"] is not None and first["delivered"] is not None
    assert second["measured"] is None and second["delivered"] is None
    assert second["baseline"] is not None
    assert body["total"]["measured"] is None
    assert body["total"]["delivered"] is None
    assert body["total"]["requested"]["value"] == pytest.approx(100.0)
    # At the start nothing is measured yet: still null, not 0.0.
    body = realisation.realise(request=request, now=start).as_json()
    assert body["measurementStatus"] == "pending"
    assert [s["measured"] for s in body["steps"]] == [None, None]
    assert body["total"]["measured"] is None and body["total"]["delivered"] is None
    # Once measured: numbers, status complete.
    hourly_curve(tenant.point, first=day, last=day, watts=shape)
    body = realisation.realise(request=request, now=start + dt.timedelta(hours=3)).as_json()
    assert body["measurementStatus"] == "complete"
    assert body["total"]["delivered"] is not None
