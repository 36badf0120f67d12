"""The hot lists' serializers answer exactly what DRF's field-by-field representation does."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from hub.api.serializers import MeteringPointSerializer, SeriesSerializer
from hub.models import MeteringPoint, SeriesKind, Site
from hub.quantities import ACTIVE_POWER_IMPORT
from hub.services.series import ensure_series

pytestmark = pytest.mark.django_db


def _drf(serializer: serializers.ModelSerializer, instance: object) -> dict[str, object]:
    # DRF's own ModelSerializer representation, which the fast one must equal.
    return dict(serializers.ModelSerializer.to_representation(serializer, instance))


@pytest.mark.parametrize("with_site", [False, True])
def test_metering_point_representation_is_drfs(tenant, with_site):
    site = Site.objects.create(organisation=tenant.organisation, name="S") if with_site else None
    point = MeteringPoint.objects.create(
        organisation=tenant.organisation,
        kind="elec_prm",
        identifier="12345678901234",
        label="Bâtiment A" if with_site else "",
        site=site,
    )
    point = MeteringPoint.objects.get(pk=point.pk)  # as a list reads it
    serializer = MeteringPointSerializer(context={"organisation": tenant.organisation})
    assert serializer.to_representation(point) == _drf(serializer, point)
    assert serializer.to_representation(point)["created_at"].endswith(("Z", ":00"))


def test_metering_point_representation_of_a_fresh_instance_is_drfs(tenant):
    # After a create the instance holds what was assigned, not what was read back.
    point = MeteringPoint(
        organisation=tenant.organisation,
        kind="elec_prm",
        identifier="12345678901234",
        created_at=dt.datetime(2026, 1, 1, 12, 30, 0, 123456, tzinfo=dt.UTC),
    )
    serializer = MeteringPointSerializer(context={"organisation": tenant.organisation})
    assert serializer.to_representation(point) == _drf(serializer, point)


@pytest.mark.parametrize("step", [None, 900])
def test_series_representation_is_drfs(tenant, step):
    series = ensure_series(
        metering_point=tenant.point,
        quantity=ACTIVE_POWER_IMPORT.name,
        unit="kW",
        source="test",
        kind=SeriesKind.INSTANT,
        step_seconds=step,
    )
    serializer = SeriesSerializer()
    assert serializer.to_representation(series) == _drf(serializer, series)


def test_the_site_field_is_still_limited_to_the_organisation(tenant, foreign):
    """Tenant scoping on writes: a site of another organisation is not a valid choice."""
    theirs = Site.objects.create(organisation=foreign.organisation, name="Theirs")
    serializer = MeteringPointSerializer(
        data={"kind": "elec_prm", "identifier": "12345678901234", "site": theirs.pk},
        context={"organisation": tenant.organisation},
    )
    assert not serializer.is_valid()
    assert "site" in serializer.errors


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC", "America/Noronha"])
def test_a_page_of_metering_points_writes_drfs_datetimes_in_the_current_zone(tenant, zone):
    # The page looks its zone up once (_ZonedPage); each row must still be DRF's.
    from django.utils import timezone

    instants = [
        dt.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=dt.UTC),  # Paris: the short day
        dt.datetime(2026, 3, 29, 1, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC),  # Paris: the long day, twice 02:30
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))),
    ]
    points = [
        MeteringPoint(
            organisation=tenant.organisation,
            kind="elec_prm",
            identifier=f"{i:014d}",
            created_at=instant,
        )
        for i, instant in enumerate(instants)
    ]
    with timezone.override(zone):
        page = MeteringPointSerializer(points, many=True).data
        single = MeteringPointSerializer(context={"organisation": tenant.organisation})
        expected = [_drf(single, point) for point in points]
    assert [dict(row) for row in page] == expected
    assert len({row["created_at"] for row in page}) == len(instants)


_INSTANTS = st.sampled_from(
    [
        "2026-01-02T00:00:00Z",
        "2026-01-02T00:00:00+00:00",
        "2026-03-29T01:59:59.999999+01:00",  # Paris: the short day
        "2026-03-29T03:00:00+02:00",
        "2026-10-25T02:30:00+02:00",  # Paris: the long day, the first 02:30
        "2026-10-25T02:30:00+01:00",  # and the second
        "2026-12-07T12:00:00-03:30",
        "2026-12-07 12:00:00+01",
        "2026-12-07T12:00:00",  # naive: the current zone's, DRF's business
        "2026-12-07",
        "0001-01-01T00:00:00+05:00",  # before the first instant UTC can hold
        "9999-12-31T23:59:59-05:00",
        "2026-02-30T00:00:00Z",
        "2026-01-02T24:00:00Z",
        "",
        "now",
    ]
) | st.text(max_size=30)


@given(
    query=st.fixed_dictionaries(
        {"start": _INSTANTS, "end": _INSTANTS},
        optional={
            "step": st.sampled_from(["raw", "1h", "RAW", ""]),
            "format": st.sampled_from(["json", "csv", "JSON", ""]),
            "aggregate": st.sampled_from(["mean", "nope"]),
            "metering_point": st.just("1"),
        },
    ),
    zone=st.sampled_from(["Europe/Paris", "UTC"]),
)
@settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_raw_json_range_is_the_serializers_whenever_it_answers(query, zone):
    # The points' fast path reads its query without PointsQuerySerializer: whenever it
    # answers, the serializer reads the same instants (same offset too) of a raw JSON read.
    from django.http import QueryDict
    from django.utils import timezone

    from hub.api.serializers import PointsQuerySerializer, raw_json_range

    params = QueryDict(mutable=True)
    params.update(query)
    with timezone.override(zone):
        fast = raw_json_range(params)
        serializer = PointsQuerySerializer(data=params)
        valid = serializer.is_valid()
    if fast is None:
        return
    assert valid, serializer.errors
    data = serializer.validated_data
    assert set(params) <= set(serializer.fields) - {"aggregate"}
    assert data["step"] == "raw" and data.get("format", "json") == "json"
    for ours, drfs in zip(fast, (data["start"], data["end"]), strict=True):
        assert ours == drfs and ours.utcoffset() == drfs.utcoffset()


def test_the_usual_read_takes_the_fast_path():
    from django.http import QueryDict

    from hub.api.serializers import raw_json_range

    query = QueryDict("start=2026-01-02T00:00:00Z&end=2026-01-03T00:00:00%2B01:00&format=json")
    start, end = raw_json_range(query)
    assert (start.isoformat(), end.isoformat()) == (
        "2026-01-02T01:00:00+01:00",
        "2026-01-03T00:00:00+01:00",
    )
