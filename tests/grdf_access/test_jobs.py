"""GRDF's long work leaves the web request: sync, large imports and exports run as jobs.

The portal's "Synchroniser maintenant" and ``POST /api/v1/grdf/sync`` answer at once with a job
(202 in the API, the job's page in the portal); the worker does the calls. A queue that cannot
be reached answers 503 and starts nothing.
"""

from __future__ import annotations

import io

import pytest
from django.test import Client

from grdf_access import tasks
from grdf_access.models import AccessRight, RightState
from hub.models import Job, JobStatus
from hub.services.jobs import BROKER_DOWN
from tests.api_problems import field_errors
from tests.conftest import Tenant
from tests.grdf_access.conftest import NOW, PCE_ID, active_right, counters
from tests.grdf_access.test_csv_import import csv, row
from tests.hub.test_portal_french import visible_text
from tests.hub.test_portal_support import sign_in


@pytest.fixture
def pinned_jobs(sim: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job bodies run at the simulator's instant, like the views in these tests."""
    monkeypatch.setattr(tasks, "_now", lambda: NOW)


def run_queued(job_id: str) -> Job:
    """What the worker does with the queued message."""
    job = Job.objects.get(pk=job_id)
    task = {"grdf.sync": tasks.sync_job, "grdf.import": tasks.import_job}.get(
        job.kind, tasks.export_job
    )
    assert task(job_id=job_id) == "succeeded", Job.objects.get(pk=job_id).error
    return Job.objects.get(pk=job_id)


@pytest.mark.django_db
def test_api_sync_answers_202_with_a_job_and_calls_grdf_only_in_the_worker(
    pinned_jobs, tenant, operator_client, django_capture_on_commit_callbacks
) -> None:
    active_right(tenant)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        answer = operator_client.post("/api/v1/grdf/sync", {}, format="json")
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert answer["Location"] == body["url"] and body["status"] == "queued"
    assert body["kind"] == "grdf.sync" and body["progress"]["percent"] is None
    assert len(queued) == 1
    assert counters()["requests"] == 0  # nothing asked of GRDF inside the request
    job = run_queued(body["id"])
    assert job.status == JobStatus.SUCCEEDED and job.result["points"] > 0
    assert counters()["data_requests"] == job.result["calls"] > 0
    followed = operator_client.get(f"/api/v1/jobs/{body['id']}/").json()
    assert followed["status"] == "succeeded" and followed["progress"]["percent"] == 100
    assert "valeur(s) enregistrée(s)" in followed["result"]["message"]


@pytest.mark.django_db
def test_a_token_may_start_a_sync(sim, tenant, token_client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        answer = token_client.post("/api/v1/grdf/sync", {"pces": [PCE_ID]}, format="json")
    assert answer.status_code == 202, answer.content
    job = Job.objects.get(pk=answer.json()["id"])
    # No person behind a token: the job names the token, never its secret.
    assert job.actor is None and job.actor_label.startswith("token ")
    # The job runs in the language the caller asked in (French by default).
    assert job.params == {"pces": [PCE_ID], "language": "fr"}


@pytest.mark.django_db
def test_api_sync_refuses_a_bad_pce_list_and_viewers(sim, tenant, operator_client, viewer_client):
    bad = operator_client.post("/api/v1/grdf/sync", {"pces": "GI654321"}, format="json")
    assert bad.status_code == 400 and "pces" in field_errors(bad)
    assert viewer_client.post("/api/v1/grdf/sync", {}, format="json").status_code == 403
    assert not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_api_sync_answers_503_when_the_queue_is_down(
    sim, broker_down, tenant, operator_client
) -> None:
    answer = operator_client.post("/api/v1/grdf/sync", {}, format="json")
    assert answer.status_code == 503
    assert answer.json()["detail"] == BROKER_DOWN and answer["Retry-After"]
    job = Job.objects.get(pk=answer.json()["job"])
    assert job.status == JobStatus.FAILED and job.error == BROKER_DOWN


@pytest.fixture
def operator(client: Client, tenant: Tenant) -> Client:
    sign_in(client, tenant.operator)
    return client


@pytest.mark.django_db
def test_portal_sync_shows_the_job_page_then_the_result(
    pinned_jobs, tenant, operator, django_capture_on_commit_callbacks
) -> None:
    active_right(tenant)
    with django_capture_on_commit_callbacks(execute=False):
        answer = operator.post("/grdf/synchroniser/")
    assert answer.status_code == 302 and answer["Location"].startswith("/jobs/")
    assert counters()["requests"] == 0
    page = operator.get(answer["Location"])
    html = page.content.decode()
    assert "Synchronisation GRDF" in html and "<progress" in html and "hx-trigger" in html
    job = run_queued(str(Job.objects.get().pk))
    done = operator.get(answer["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert job.result["message"] in done and "hx-trigger" not in done


@pytest.mark.django_db(transaction=True)
def test_portal_sync_with_the_queue_down_is_a_503_page(sim, broker_down, tenant, client) -> None:
    sign_in(client, tenant.operator)
    answer = client.post("/grdf/synchroniser/")
    assert answer.status_code == 503
    assert "injoignable" in answer.content.decode()


@pytest.mark.django_db
def test_large_api_import_runs_as_a_job_with_progress(
    pinned_jobs, tenant, operator_client, settings, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    settings.GRDF_IMPORT_INLINE_ROWS = 2
    monkeypatch.setattr(tasks, "IMPORT_CHUNK", 2)
    content = csv(*(row(pce=f"GI11111{i}") for i in range(5)))
    upload = io.BytesIO(content)
    upload.name = "droits.csv"
    with django_capture_on_commit_callbacks(execute=False):
        answer = operator_client.post(
            "/api/v1/grdf/rights/import", {"file": upload, "dry_run": "false"}, format="multipart"
        )
    assert answer.status_code == 202, answer.content
    assert not AccessRight.objects.exists() and counters()["declarations"] == 0
    job = run_queued(answer.json()["id"])
    assert (job.progress_done, job.progress_total) == (5, 5)
    assert job.result["declared"] == 5 and job.result["refused"] == []
    assert AccessRight.objects.filter(state=RightState.TO_VALIDATE).count() == 5
    assert counters()["declarations"] == 5
    assert job.actor == tenant.operator


@pytest.mark.django_db
def test_large_export_runs_as_a_job_whose_result_is_the_file(
    pinned_jobs, tenant, gateway, viewer_client, settings, django_capture_on_commit_callbacks
) -> None:
    from grdf_access.sync import sync_data
    from tests.grdf_access.conftest import TODAY

    active_right(tenant)
    sync_data(organisation=tenant.organisation, gateway=gateway, now=NOW, today=TODAY, force=True)
    settings.GRDF_EXPORT_INLINE_PCE_DAYS = 2
    body = {
        "pces": [PCE_ID],
        "types": ["informatives_journalieres"],
        "start": "2026-10-24",
        "end": "2026-10-27",
        "format": "csv",
    }
    with django_capture_on_commit_callbacks(execute=False):
        answer = viewer_client.post("/api/v1/grdf/export", body, format="json")
    assert answer.status_code == 202, answer.content
    job = run_queued(answer.json()["id"])
    followed = viewer_client.get(f"/api/v1/jobs/{job.pk}/").json()
    download = viewer_client.get(followed["result_url"])
    text = b"".join(download.streaming_content).decode()
    assert text.startswith("pce;type;grandeur;unite;journee_gaziere")
    assert "2026-10-25T06:00:00+01:00" in text
    # Outside the consent the job fails with the reason, as the direct export answers 403.
    with django_capture_on_commit_callbacks(execute=False):
        outside = viewer_client.post(
            "/api/v1/grdf/export", {**body, "start": "2025-12-01"}, format="json"
        )
    assert tasks.export_job(job_id=outside.json()["id"]) == "failed"
    refused = Job.objects.get(pk=outside.json()["id"])
    assert refused.error.startswith("Export refusé") and PCE_ID in refused.error


@pytest.mark.django_db
def test_job_title_and_state_follow_the_reader_language(
    pinned_jobs, tenant, operator, django_capture_on_commit_callbacks
) -> None:
    """ "every code shown as its label" (issue 19): a job's title and state are labels in the
    page's language, whatever language the job was started in."""
    active_right(tenant)
    with django_capture_on_commit_callbacks(execute=False):
        answer = operator.post("/grdf/synchroniser/")
    french = operator.get(answer["Location"]).content.decode()
    assert "Synchronisation GRDF" in french and "en attente" in french
    operator.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = operator.get(answer["Location"]).content.decode()
    assert "GRDF synchronisation" in english and "pending" in english
    shown = visible_text(english)
    assert "Synchronisation GRDF" not in shown and "queued" not in shown
