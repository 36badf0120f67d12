"""Background jobs in the API: ``GET /api/v1/jobs/{id}/``, its result, and the 202/503 answers."""

from __future__ import annotations

from typing import Any, NoReturn

from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hub.api import examples as ex
from hub.api.permissions import OrganisationRole
from hub.api.problems import DEPENDENCY_DOWN, Problem
from hub.api.schema import examples
from hub.models import Job, JobStatus
from hub.services.jobs import BrokerUnavailable
from hub.tenancy import current_organisation


class JobSerializer(serializers.ModelSerializer[Job]):
    progress = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "label",
            "status",
            "progress",
            "result",
            "result_url",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "url",
        ]

    def to_representation(self, instance: Job) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        # The kind's title in the caller's language (``Accept-Language``), as on the portal page.
        data["label"] = instance.title
        return data

    def get_progress(self, job: Job) -> dict[str, int | None]:
        return {"done": job.progress_done, "total": job.progress_total, "percent": job.percent}

    def get_result_url(self, job: Job) -> str | None:
        if job.status != JobStatus.SUCCEEDED or not job.result_file:
            return None
        return self._absolute(reverse("api-job-result", kwargs={"pk": job.pk}))

    def get_url(self, job: Job) -> str:
        return self._absolute(reverse("api-job", kwargs={"pk": job.pk}))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


def accepted(job: Job, request: Request) -> Response:
    """202 with the job resource; ``Location`` says where to follow it."""
    body = JobSerializer(job, context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})


def queue_unavailable(exc: BrokerUnavailable) -> NoReturn:
    """503: nothing was started; the client may try again later."""
    raise Problem(
        kind=DEPENDENCY_DOWN,
        detail=exc.reason,
        headers={"Retry-After": "60"},
        code="queue_unavailable",
        job=str(exc.job.pk),
        unavailable="broker",
    )


@extend_schema_view(
    get=extend_schema(
        summary="Follow a background job",
        description="Status and progress of a job started by a 202 answer; `result_url` once "
        "it succeeded with a file.",
        examples=examples(response=ex.JOB),
    )
)
class JobDetail(generics.RetrieveAPIView[Job]):
    permission_classes = [OrganisationRole]
    serializer_class = JobSerializer

    def get_queryset(self) -> Any:
        return Job.objects.filter(organisation=current_organisation(self.request))


class JobResult(generics.GenericAPIView[Job]):
    permission_classes = [OrganisationRole]

    def get_queryset(self) -> Any:
        return Job.objects.filter(organisation=current_organisation(self.request))

    @extend_schema(
        summary="Download a job's result",
        description="The file a succeeded job produced (CSV, XLSX…); 404 until then.",
        responses={(200, "application/octet-stream"): bytes, 404: dict},
    )
    def get(self, request: Request, pk: str) -> FileResponse:
        job = self.get_object()
        if job.status != JobStatus.SUCCEEDED or not job.result_file:
            raise Http404
        return result_response(job)


def result_response(job: Job) -> FileResponse:
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_name,
        content_type=job.result_content_type or "application/octet-stream",
    )
