"""Background jobs: queued after commit, run by a worker, followed by id within the tenant."""

from __future__ import annotations

from typing import Any

import pytest
from kombu.exceptions import OperationalError

from hub.actors import Actor
from hub.models import AuditEvent, Job, JobStatus
from hub.services import jobs
from hub.services.jobs import JobFailed, JobOutcome, Progress, job_task
from tests.conftest import Tenant
from tests.hub.test_celery_worker import redis_broker  # noqa: F401 - fixture
from tests.hub.test_portal_support import sign_in


class RecordingTask:
    """Stands for a Celery task: records what would have been sent to the broker."""

    def __init__(self, fail: bool = False) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail = fail

    def apply_async(self, *args: Any, **kwargs: Any) -> None:
        if self.fail:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.sent.append(kwargs["kwargs"])


def start(tenant: Tenant, task: Any, **extra: Any) -> Job:
    from django.utils import timezone

    return jobs.start(
        organisation=tenant.organisation,
        kind="test.kind",
        label="Travail de test",
        task=task,
        params={"n": 3},
        now=timezone.now(),
        actor=Actor.person(tenant.operator),
        **extra,
    )


@job_task()
def counting_job(*, job: Job, progress: Progress) -> JobOutcome:
    """Three steps, a summary and a file."""
    total = job.params["n"]
    progress(0, total)
    for done in range(1, total + 1):
        progress(done)
        assert Job.objects.get(pk=job.pk).progress_done == done  # visible while it runs
    return JobOutcome(
        summary={"message": "Trois étapes faites."},
        content=b"a;b\r\n1;2\r\n",
        filename="result.csv",
        content_type="text/csv",
    )


@job_task()
def refusing_job(*, job: Job, progress: Progress) -> JobOutcome:
    raise JobFailed("Export refusé : hors du consentement.")


@job_task()
def crashing_job(*, job: Job, progress: Progress) -> JobOutcome:
    raise RuntimeError("bug with a secret=abc inside")


@pytest.mark.django_db
def test_job_is_queued_only_once_its_row_is_committed(
    tenant, django_capture_on_commit_callbacks
) -> None:
    task = RecordingTask()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = start(tenant, task)
        assert task.sent == []  # the worker could not find the row before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert task.sent == [{"job_id": str(job.pk)}]
    job.refresh_from_db()
    assert (job.status, job.actor, job.organisation) == (
        JobStatus.QUEUED,
        tenant.operator,
        tenant.organisation,
    )
    assert AuditEvent.objects.filter(action="job.queued", object_id=str(job.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_unreachable_queue_fails_the_job_with_a_clear_reason(tenant) -> None:
    with pytest.raises(jobs.BrokerUnavailable) as caught:
        start(tenant, RecordingTask(fail=True))
    job = Job.objects.get()
    assert caught.value.job.pk == job.pk
    assert job.status == JobStatus.FAILED and job.error == jobs.BROKER_DOWN
    assert "injoignable" in caught.value.reason


@pytest.mark.django_db
def test_runner_records_progress_result_and_file(tenant, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = start(tenant, RecordingTask())
    assert counting_job(job_id=str(job.pk)) == "succeeded"
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.percent == 100
    assert (job.progress_done, job.progress_total) == (3, 3)
    assert job.result == {"message": "Trois étapes faites."}
    assert job.result_file.read() == b"a;b\r\n1;2\r\n" and job.result_name == "result.csv"
    assert job.started_at and job.finished_at and job.finished_at >= job.started_at
    assert AuditEvent.objects.filter(action="job.succeeded", object_id=str(job.pk)).exists()
    # A message delivered twice (a worker lost before its ack) does not run the job again.
    assert counting_job(job_id=str(job.pk)) == "skipped"


@pytest.mark.django_db
def test_expected_and_unexpected_failures(tenant, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        refused, crashed = start(tenant, RecordingTask()), start(tenant, RecordingTask())
    assert refusing_job(job_id=str(refused.pk)) == "failed"
    assert crashing_job(job_id=str(crashed.pk)) == "failed"
    refused.refresh_from_db()
    crashed.refresh_from_db()
    assert refused.error == "Export refusé : hors du consentement."
    # The requester reads a plain sentence; the traceback goes to the logs only.
    assert crashed.status == JobStatus.FAILED and crashed.error == jobs.UNEXPECTED
    assert "secret" not in crashed.error
    assert counting_job(job_id="00000000-0000-0000-0000-000000000000") == "skipped"


@pytest.mark.django_db
def test_api_follows_a_job_of_the_callers_organisation_only(
    tenant, foreign, token_client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        mine, theirs = start(tenant, RecordingTask()), start(foreign, RecordingTask())
    queued = token_client.get(f"/api/v1/jobs/{mine.pk}/")
    assert queued.status_code == 200
    body = queued.json()
    assert body["status"] == "queued" and body["result_url"] is None
    assert body["url"].endswith(f"/api/v1/jobs/{mine.pk}/")
    assert token_client.get(f"/api/v1/jobs/{theirs.pk}/").status_code == 404
    assert token_client.get(f"/api/v1/jobs/{mine.pk}/result").status_code == 404  # not yet
    counting_job(job_id=str(mine.pk))
    done = token_client.get(f"/api/v1/jobs/{mine.pk}/").json()
    assert done["status"] == "succeeded"
    assert done["progress"] == {"done": 3, "total": 3, "percent": 100}
    download = token_client.get(done["result_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == (
        b"a;b\r\n1;2\r\n"
    )
    assert 'filename="result.csv"' in download["Content-Disposition"]
    counting_job(job_id=str(theirs.pk))
    assert token_client.get(f"/api/v1/jobs/{theirs.pk}/result").status_code == 404
    assert token_client.get("/api/v1/jobs/not-a-uuid/").status_code == 404


@pytest.mark.django_db
def test_portal_page_polls_while_running_and_shows_the_result(
    tenant, foreign, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        job = start(tenant, RecordingTask())
        theirs = start(foreign, RecordingTask())
    sign_in(client, tenant.viewer)
    page = client.get(f"/jobs/{job.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "Travail de test" in html
    assert 'hx-trigger="every 1s"' in html and "en attente" in html
    counting_job(job_id=str(job.pk))
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<h1>" not in html and "hx-trigger" not in html  # finished: polling stops
    assert 'value="100"' in html and "Trois étapes faites." in html
    assert client.get(f"/jobs/{job.pk}/result/").status_code == 200
    assert client.get(f"/jobs/{theirs.pk}/").status_code == 404
    assert client.get(f"/jobs/{theirs.pk}/result/").status_code == 404


@pytest.mark.celery_worker
@pytest.mark.usefixtures("redis_broker")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_queued_job(tenant) -> None:
    """Queued after commit, sent through Redis, run by a worker: the job ends succeeded."""
    import datetime as dt
    import time

    from celery.contrib.testing.worker import start_worker
    from django.utils import timezone

    from hub.celery import app

    with start_worker(
        app, pool="solo", perform_ping_check=False, queues=["default"], shutdown_timeout=10
    ):
        job = start(tenant, counting_job)
        deadline = timezone.now() + dt.timedelta(seconds=30)
        while not Job.objects.get(pk=job.pk).finished and timezone.now() < deadline:
            time.sleep(0.1)  # polling for the worker's end, as a client of the API does
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result_file.read() == b"a;b\r\n1;2\r\n"
