"""The hot lists' serializers answer exactly what DRF's field-by-field representation does."""

from __future__ import annotations

import datetime as dt

import pytest
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
