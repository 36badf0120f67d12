"""The demo seed (idempotent, no network) and the Celery tasks' entry points."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from grdf_access import simulator, tasks
from grdf_access.models import AccessRight, Pce, ProofStatus, RightState
from hub.demo import DEMO_ORG_SLUG, seed_demo
from hub.models import Organisation, Point, PollRun
from tests.conftest import Tenant
from tests.grdf_access.conftest import active_right, counters

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent_and_makes_no_call(sim) -> None:
    today = dt.date(2026, 11, 2)
    seed_demo(today=today)
    organisation = Organisation.objects.get(slug=DEMO_ORG_SLUG)
    rights = AccessRight.objects.filter(organisation=organisation, state=RightState.ACTIVE)
    assert sorted(r.pce.identifier for r in rights) == ["12345678901234", "GI123456"]
    for right in rights:
        assert simulator.get_right(right.grdf_id)["etat_droit_acces"] == "Active"
    points = Point.objects.filter(series__metering_point__organisation=organisation).count()
    assert points >= 2 * 2 * 59
    assert rights.filter(proof_status=ProofStatus.AWAITED).count() == 1
    seed_demo(today=today)
    assert AccessRight.objects.filter(organisation=organisation).count() == 2
    assert Pce.objects.filter(organisation=organisation).count() == 2
    assert Point.objects.filter(series__metering_point__organisation=organisation).count() == points
    assert counters()["requests"] == 0


def test_sync_task_and_fan_out(sim, tenant: Tenant, django_capture_on_commit_callbacks) -> None:
    simulator.set_now(None)  # tasks read the wall clock
    active_right(tenant, consent_end=dt.date(2027, 6, 30), data_start=dt.date(2026, 10, 1))
    result = tasks.sync_organisation(organisation_pk=tenant.organisation.pk)
    assert "points" in result and not result.startswith("failed")
    assert PollRun.objects.filter(organisation=tenant.organisation, source="grdf").count() == 2
    assert tasks.sync_organisation(organisation_pk=10**9) == "skipped"
    with django_capture_on_commit_callbacks() as callbacks:
        assert tasks.sync_due() == 1
    assert len(callbacks) == 1
    assert tasks.purge_expired() == 0
    assert "grdf-sync-due" in settings.CELERY_BEAT_SCHEDULE
