"""A background job's page: its progress (refreshed by htmx while it runs) and its result."""

from __future__ import annotations

import uuid

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from hub.api.jobs import result_response
from hub.models import Job, JobStatus, Role
from hub.portal.access import membership_of, role_required


def _job(request: HttpRequest, pk: uuid.UUID) -> Job:
    return get_object_or_404(Job, pk=pk, organisation=membership_of(request).organisation)


@role_required(Role.VIEWER)
def job_detail(request: HttpRequest, pk: uuid.UUID) -> HttpResponse:
    job = _job(request, pk)
    if getattr(request, "htmx", False):
        return render(request, "portal/_job.html", {"job": job})
    return render(request, "portal/job.html", {"job": job})


@role_required(Role.VIEWER)
def job_result(request: HttpRequest, pk: uuid.UUID) -> FileResponse:
    job = _job(request, pk)
    if job.status != JobStatus.SUCCEEDED or not job.result_file:
        raise Http404
    return result_response(job)
