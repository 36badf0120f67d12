"""One test proves the queue: a real Celery worker consumes a task from Redis."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from hub.celery import app
from hub.models import PollRun
from hub.services.polling import poll_run
from hub.tasks import prune_old_poll_runs
from tests.conftest import require


@pytest.fixture
def redis_broker():
    # Settings route the broker to REDIS_URL when it is set (CI sets it).
    require(
        os.environ.get("REDIS_URL", "").startswith("redis://"), "needs REDIS_URL (a running Redis)"
    )
    return app.conf.broker_url


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_runs_a_task_from_redis(redis_broker):
    now = timezone.now()
    PollRun.objects.create(source="grdf", started_at=now - dt.timedelta(days=120))
    PollRun.objects.create(source="grdf", started_at=now - dt.timedelta(days=1))
    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10
    ):
        result = prune_old_poll_runs.apply_async(kwargs={"keep_days": 90}, ignore_result=True)
        assert result.id
        deadline = timezone.now() + dt.timedelta(seconds=20)
        while PollRun.objects.count() != 1 and timezone.now() < deadline:
            time.sleep(0.1)
    assert list(PollRun.objects.values_list("started_at", flat=True)) == [
        now - dt.timedelta(days=1)
    ]


@pytest.mark.django_db
def test_poll_run_records_success_and_failure():
    now = timezone.now()
    with poll_run(source="ecowatt", now=now) as run:
        run.items_received = 4
    assert PollRun.objects.get(pk=run.pk).outcome == "success"
    with pytest.raises(RuntimeError), poll_run(source="ecowatt", now=now) as failing:
        raise RuntimeError("503 from provider")
    failed = PollRun.objects.get(pk=failing.pk)
    assert (failed.outcome, failed.error) == ("failed", "RuntimeError: 503 from provider")
    assert failed.finished_at >= now
