"""What a sync plans from: each PCE of the organisation with its own rights and back-offs."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access.models import AccessRight, DataType, FetchBackoff, Pce, RightState, Role
from grdf_access.services import ensure_pce
from grdf_access.sync import pces_with_rights, plan
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, TODAY

pytestmark = pytest.mark.django_db


def pce_with_right(
    tenant: Tenant, identifier: str, *, data_start: dt.date, mes_date: dt.date | None = None
) -> Pce:
    pce: Pce = ensure_pce(organisation=tenant.organisation, identifier=identifier)
    if mes_date is not None:
        Pce.objects.filter(pk=pce.pk).update(mes_date=mes_date)
    AccessRight.objects.create(
        organisation=tenant.organisation,
        pce=pce,
        role=Role.AUTHORISED,
        postcode="75011",
        consent_start=dt.date(2026, 1, 1),
        consent_end=dt.date(2027, 6, 30),
        data_start=data_start,
        data_end=dt.date(2027, 6, 30),
        published=True,
        informative_daily=True,
        contractual=True,
        technical=True,
        state=RightState.ACTIVE,
    )
    return pce


def back_off(pce: Pce, data_type: str) -> None:
    FetchBackoff.objects.create(
        pce=pce, data_type=data_type, failures=1, next_attempt_at=NOW + dt.timedelta(hours=1)
    )


def test_each_pce_comes_with_its_own_rights_and_backoffs_only(
    tenant: Tenant, foreign: Tenant, django_assert_num_queries
) -> None:
    first = pce_with_right(tenant, "GI000001", data_start=dt.date(2026, 1, 1))
    second = pce_with_right(tenant, "GI000002", data_start=dt.date(2026, 3, 1))
    pce_with_right(tenant, "GI000002", data_start=dt.date(2026, 2, 1))  # a second right
    back_off(second, DataType.CONTRACTUAL)
    rival = pce_with_right(foreign, "GI999999", data_start=dt.date(2026, 1, 1))
    back_off(rival, DataType.PUBLISHED)

    # The PCEs, their rights, their back-offs: one query each, however many PCEs.
    with django_assert_num_queries(3):
        loaded = pces_with_rights(organisation=tenant.organisation)

    assert [item.pce.identifier for item in loaded] == ["GI000001", "GI000002"]
    by_pce = {item.pce.pk: item for item in loaded}
    assert [r.data_start for r in by_pce[first.pk].rights] == [dt.date(2026, 1, 1)]
    # Newest first, as AccessRight's ordering says.
    assert [r.data_start for r in by_pce[second.pk].rights] == [
        dt.date(2026, 2, 1),
        dt.date(2026, 3, 1),
    ]
    assert by_pce[first.pk].backoffs == []
    assert [b.data_type for b in by_pce[second.pk].backoffs] == [DataType.CONTRACTUAL]
    for item in loaded:
        assert all(right.pce is item.pce for right in item.rights)


def test_named_pces_only(tenant: Tenant, django_assert_num_queries) -> None:
    pce_with_right(tenant, "GI000001", data_start=dt.date(2026, 1, 1))
    named = pce_with_right(tenant, "GI000002", data_start=dt.date(2026, 1, 1))
    back_off(named, DataType.TECHNICAL)

    with django_assert_num_queries(3):
        [item] = pces_with_rights(organisation=tenant.organisation, identifiers=["GI000002"])

    assert item.pce.pk == named.pk
    assert len(item.rights) == 1 and item.rights[0].pce_id == named.pk
    assert [b.data_type for b in item.backoffs] == [DataType.TECHNICAL]


def test_planning_reads_no_more_rows(tenant: Tenant, django_assert_num_queries) -> None:
    # The service date bounds the data asked for ("consent.decide" reads it from the right's
    # PCE): the PCE loaded with the right, not one query per right.
    late = pce_with_right(
        tenant, "GI000001", data_start=dt.date(2026, 1, 1), mes_date=dt.date(2026, 9, 1)
    )
    waiting = pce_with_right(tenant, "GI000002", data_start=dt.date(2026, 1, 1))
    back_off(waiting, DataType.INFORMATIVE_DAILY)
    loaded = pces_with_rights(organisation=tenant.organisation)
    deferred: list[tuple[str, str]] = []

    with django_assert_num_queries(0):
        tasks = plan(
            loaded,
            now=NOW,
            today=TODAY,
            types={DataType.INFORMATIVE_DAILY},
            backfill=True,
            deferred=deferred,
        )

    assert [(t.pce_id, t.data_type, t.start) for t in tasks] == [
        (late.pk, DataType.INFORMATIVE_DAILY, dt.date(2026, 9, 1))
    ]
    assert deferred == [("GI000002", DataType.INFORMATIVE_DAILY)]
