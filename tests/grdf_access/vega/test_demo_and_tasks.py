"""The demo's VEGA state (idempotent) and the beat tasks' entry points."""

from __future__ import annotations

import datetime as dt

import pytest

from grdf_access.vega import tasks
from grdf_access.vega.models import ExpectedPublication, Usage
from hub.demo import DEMO_ORG_SLUG, seed_demo
from hub.models import Organisation

pytestmark = pytest.mark.django_db


def test_demo_seed_is_idempotent(settings) -> None:
    settings.HUB_SIMULATORS = False  # the VEGA demo needs no GRDF simulator
    seed_demo(today=dt.date(2026, 11, 2))
    seed_demo(today=dt.date(2026, 11, 2))
    organisation = Organisation.objects.get(slug=DEMO_ORG_SLUG)
    assert sorted(
        Usage.objects.filter(organisation=organisation).values_list("version", flat=True)
    ) == [
        "V1",
        "V14",
        "V16",
    ]
    assert ExpectedPublication.objects.filter(organisation=organisation).count() == 1


def test_beat_tasks_run(tmp_path, settings) -> None:
    settings.VEGA_DROP_ROOT = str(tmp_path)
    assert tasks.watch().startswith("0 recorded")
    assert tasks.daily() == "0 reminders, 0 files purged"
