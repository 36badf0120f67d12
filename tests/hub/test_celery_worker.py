"""Real Celery workers on Redis: one consumes a task; one killed mid-batch loses nothing."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import redis
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from hub.celery import app
from hub.models import AuditEvent, PollRun
from hub.services.polling import poll_run
from hub.tasks import prune_old_poll_runs
from tests.conftest import require
from tests.processes import child_env, start_celery_worker


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


# --- A worker killed mid-batch -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
# The broker's keys for the Smart OA queue, under the run's prefix (tests/settings.py).
_BROKER_PREFIX = app.conf.broker_transport_options.get("global_keyprefix", "")
QUEUE_KEYS = tuple(
    f"{_BROKER_PREFIX}{key}" for key in ("smartoa", "unacked", "unacked_index", "unacked_mutex")
)


def _start_worker(name: str, live_server_url: str) -> subprocess.Popen[bytes]:
    env = {
        **child_env(),
        "SMARTOA_API_URL": f"{live_server_url}/sim/smartoa",
        "SMARTOA_POLL_THREADS": "1",  # one call at a time: "mid-batch" is a known point
    }
    return start_celery_worker(name, env, queues="smartoa")


@pytest.fixture
def clean_polling_queue(redis_broker):
    client = redis.Redis.from_url(redis_broker)
    client.delete(*QUEUE_KEYS)
    yield
    # The killed worker's message stays unacknowledged until the visibility timeout: drop it
    # so no later test's worker receives it.
    client.delete(*QUEUE_KEYS)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(
    tenant, live_server, clean_polling_queue, monkeypatch, settings
):
    """Finding: "kill -9 a worker mid-batch and restart it; nothing lost, nothing duplicated,
    the claimed contracts polled again within one cycle rather than waiting for the next poll
    time"."""
    from smartoa import simulator, tasks
    from smartoa.models import Contract, ScheduleVersion
    from smartoa.services import create_contract

    contracts = [
        create_contract(
            organisation=tenant.organisation,
            contract_id=f"BOA-KILL-{n:06d}",
            account_id=f"BOA-KILL-{n:06d}",
            api_token=simulator.token_for(f"BOA-KILL-{n:06d}"),
        )
        for n in range(1, 5)
    ]
    Contract.objects.update(poll_interval=3600)  # the next poll time is an hour away
    reached, release = threading.Event(), threading.Event()
    real_body = simulator.current_body

    def body_blocking_on_the_third(*, contract_id: str, now: dt.datetime):  # type: ignore[no-untyped-def]
        if contract_id == contracts[2].contract_id and not release.is_set():
            reached.set()
            release.wait(timeout=60)
        return real_body(contract_id=contract_id, now=now)

    monkeypatch.setattr(simulator, "current_body", body_blocking_on_the_third)

    first = _start_worker("killed", live_server.url)
    try:
        assert tasks.poll_due_contracts.apply().get() == 4  # beat's fan-out claims all four
        assert reached.wait(timeout=60), "the worker never reached the third contract"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        release.set()
        if first.poll() is None:
            first.kill()
    assert ScheduleVersion.objects.count() == 0  # the batch died before writing

    # The next fan-out cycle: the claims were not followed by a poll, so the lease is over.
    settings.SMARTOA_CLAIM_LEASE_SECONDS = 0
    second = _start_worker("restarted", live_server.url)
    try:
        assert tasks.poll_due_contracts.apply().get() == 4
        deadline = time.monotonic() + 60
        while (
            Contract.objects.filter(last_polled_at__isnull=False).count() < 4
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
    finally:
        second.terminate()
        second.wait(timeout=30)
    per_contract = sorted(ScheduleVersion.objects.values_list("contract__contract_id", flat=True))
    assert per_contract == sorted(c.contract_id for c in contracts)  # one each: none lost
    published = AuditEvent.objects.filter(action="smartoa.schedule.published").count()
    assert published == 4  # none published twice


@pytest.mark.django_db
def test_record_runs_stores_a_batch_of_results_in_one_insert(tenant, django_assert_num_queries):
    from hub.models import PollOutcome
    from hub.services.polling import RunResult, record_runs

    now = timezone.now()
    results = [
        RunResult(target="A", outcome=PollOutcome.SUCCESS, items_received=3, items_stored=1),
        RunResult(
            target="B" * 300,
            outcome=PollOutcome.FAILED,
            organisation_id=tenant.organisation.pk,
            error="E" * 3000,
        ),
    ]
    with django_assert_num_queries(1):
        record_runs(source="smartoa", results=results, started_at=now, finished_at=now)
    first, second = PollRun.objects.order_by("pk")
    assert (first.target, first.outcome, first.items_received, first.items_stored) == (
        "A",
        "success",
        3,
        1,
    )
    assert (len(second.target), len(second.error), second.organisation_id) == (
        200,
        2000,
        tenant.organisation.pk,
    )
