"""Celery across hosts: one queue per app through ``task_routes``, and the shared limits
(GRDF's per-credential rate, Smart OA's claimed fan-out) holding with several worker processes."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from hub.celery import app
from tests.conftest import require
from tests.hub.test_celery_worker import _start_worker

ROOT = Path(__file__).resolve().parents[1]
APPS = ("hub", "grdf_access", "smartoa", "flexready", "tic")


def _our_tasks() -> dict[str, object]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if name.split(".")[0] in APPS}


def test_every_task_is_routed_to_a_declared_queue_and_declares_none_itself():
    """Celery 5.x deprecates ``queue=`` on tasks for ``task_routes``."""
    tasks = _our_tasks()
    assert len(tasks) > 10
    for name, task in tasks.items():
        assert getattr(task, "queue", None) is None, name
        route = app.amqp.router.route({}, name)
        assert route["queue"].name in settings.HUB_QUEUES, name


def test_queues_are_per_app_and_deliveries_never_wait_behind_polls():
    queue_of = {name: app.amqp.router.route({}, name)["queue"].name for name in _our_tasks()}
    assert queue_of["smartoa.tasks.poll_contracts"] == "smartoa"
    assert queue_of["grdf_access.tasks.sync_organisation"] == "grdf"
    assert queue_of["grdf_access.tasks.sync_job"] == "grdf"  # a job_task, routed by its name
    assert queue_of["flexready.tasks.advance_requests"] == "flexready"
    assert queue_of["hub.control.tasks.evaluate_all"] == "control"
    assert queue_of["hub.tasks.prune_old_poll_runs"] == "default"
    # Every app's webhooks go through the one hub task, on the queue no poll waits in.
    deliveries = [name for name in queue_of if fnmatch.fnmatch(name, "*.deliver_*")]
    assert deliveries == ["hub.tasks.deliver_webhook"]
    assert queue_of["hub.tasks.deliver_webhook"] == "webhooks"


def test_the_beat_schedule_names_only_registered_tasks():
    tasks = _our_tasks()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in tasks, entry["task"]


def test_every_deployment_worker_consumes_every_queue():
    expected = ",".join(settings.HUB_QUEUES)
    for path in ("Procfile", "Procfile.dev", "deploy/hub-worker.service"):
        assert f"--queues {expected}" in (ROOT / path).read_text(), path
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["worker"]["command"]
    assert command[command.index("--queues") + 1] == expected


_ACQUIRE = """
import json, os, sys
import django
django.setup()
from grdf_access.adict_gateway import SharedRateLimiter
limiter = SharedRateLimiter(key=sys.argv[1], rate=20)
slots = []
for _ in range(5):
    limiter.acquire()
    slots.append(limiter.last_slot)
print(json.dumps(slots))
"""


def test_three_processes_share_one_grdf_credential_budget():
    """GRDF's rate is per credential, whatever the number of workers and hosts: three
    processes on one credential never take the same slot of the shared budget."""
    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL): the budget is shared there")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    key = f"three-workers-{time.time_ns()}"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ACQUIRE, key], cwd=ROOT, env=env, stdout=subprocess.PIPE
        )
        for _ in range(3)
    ]
    slots = [json.loads(p.communicate(timeout=120)[0]) for p in processes]
    assert all(p.returncode == 0 for p in processes)
    taken = [slot for mine in slots for slot in mine]
    assert len(taken) == 15
    assert len(set(taken)) == 15  # no slot taken twice: the three together keep the rate


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_three_workers_poll_a_fan_out_once_each(tenant, live_server, settings):
    """Smart OA's fan-out claims the due contracts and queues batches; three workers take the
    batches from the one queue: every contract polled, none twice."""
    from hub.models import AuditEvent
    from smartoa import simulator, tasks
    from smartoa.models import Contract, ScheduleVersion
    from smartoa.services import create_contract

    require(bool(settings.REDIS_URL), "needs REDIS_URL (a running Redis)")
    for n in range(12):
        create_contract(
            organisation=tenant.organisation,
            contract_id=f"BOA-HOSTS-{n:06d}",
            account_id=f"BOA-HOSTS-{n:06d}",
            api_token=simulator.token_for(f"BOA-HOSTS-{n:06d}"),
        )
    settings.SMARTOA_POLL_BATCH = 2  # six batches for three workers
    workers = [_start_worker(f"host{i}", live_server.url) for i in range(3)]
    try:
        assert tasks.poll_due_contracts.apply().get() == 12
        assert tasks.poll_due_contracts.apply().get() == 0  # claimed: a second beat takes none
        deadline = time.monotonic() + 90
        while (
            Contract.objects.filter(last_polled_at__isnull=False).count() < 12
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    assert Contract.objects.filter(last_polled_at__isnull=False).count() == 12
    assert ScheduleVersion.objects.count() == 12  # one each: none polled twice
    assert AuditEvent.objects.filter(action="smartoa.schedule.published").count() == 12
