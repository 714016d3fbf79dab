"""Routes of jobs: submit, list, one job, cancel; and the respond-async answer of long routes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import validated
from config.authentication import token_mode
from config.permissions import StaffRequired
from jobs.kinds import kind_get
from jobs.models import Job
from jobs.selectors import job_list
from jobs.serializers import (
    JobListQuerySerializer,
    JobListSerializer,
    JobSerializer,
    JobSubmitSerializer,
)
from jobs.services import job_cancel, job_get, job_submit

RESPOND_ASYNC = "respond-async"


def job_location(job: Job) -> str:
    return f"/api/jobs/{job.pk}"


def job_accepted(job: Job, *, created: bool, headers: dict[str, str] | None = None) -> Response:
    """202 with the job and its Location; 200 with the existing job for a duplicate."""
    headers = {"Location": job_location(job), **(headers or {})}
    return Response(JobSerializer(job).data, status=202 if created else 200, headers=headers)


def wants_async(request: Request) -> bool:
    """True when the request carries ``Prefer: respond-async`` (RFC 7240)."""
    prefer = request.headers.get("Prefer", "")
    tokens = (part.split(";")[0].split("=")[0].strip().lower() for part in prefer.split(","))
    return RESPOND_ASYNC in tokens


def submit_async(request: Request, *, kind: str, params: dict[str, Any]) -> Response:
    """The answer of a synchronous route asked to respond asynchronously."""
    if not isinstance(params, dict):  # a form body: one value per key
        params = {key: params.get(key) for key in params}
    job, created = job_submit(kind=kind, params=params)
    return job_accepted(job, created=created, headers={"Preference-Applied": RESPOND_ASYNC})


def require_staff_for(request: Request, kind_name: Any) -> None:
    """In token mode, staff-only kinds need a staff user (reading jobs does not)."""
    if not token_mode():
        return
    if kind_get(kind_name).staff_only and not request.user.is_staff:
        raise StaffRequired()


class JobListView(APIView):
    @extend_schema(
        parameters=[JobListQuerySerializer],
        responses=JobListSerializer,
        summary="Jobs, newest first",
        operation_id="jobs_list",
    )
    def get(self, request: Request) -> Response:
        query = validated(JobListQuerySerializer, request.query_params)
        jobs, total = job_list(
            state=query.get("state"),
            kind=query.get("kind"),
            limit=query["limit"],
            offset=query["offset"],
        )
        return Response({"jobs": JobSerializer(jobs, many=True).data, "total": total})

    @extend_schema(
        request=JobSubmitSerializer,
        responses={
            202: OpenApiResponse(JobSerializer, "Queued; Location names the job."),
            200: OpenApiResponse(JobSerializer, "The same job was already queued or running."),
        },
        summary="Submit a job",
        operation_id="jobs_submit",
    )
    def post(self, request: Request) -> Response:
        data = validated(JobSubmitSerializer, request.data)
        require_staff_for(request, data["kind"])
        job, created = job_submit(kind=data["kind"], params=data.get("params"))
        return job_accepted(job, created=created)


class JobDetailView(APIView):
    @extend_schema(responses=JobSerializer, summary="One job", operation_id="job_retrieve")
    def get(self, request: Request, job_id: int) -> Response:
        return Response(JobSerializer(job_get(job_id=job_id)).data)


class JobCancelView(APIView):
    @extend_schema(
        request=None,
        responses={200: JobSerializer, 409: OpenApiResponse(description="Already finished.")},
        summary="Cancel a job",
        operation_id="job_cancel",
    )
    def post(self, request: Request, job_id: int) -> Response:
        require_staff_for(request, job_get(job_id=job_id).kind)
        return Response(JobSerializer(job_cancel(job_id=job_id)).data)


RESPOND_ASYNC_PARAMETER = OpenApiParameter(
    "Prefer",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="respond-async: answer 202 with a job (Location, Preference-Applied) "
    "instead of doing the work inside the request.",
)
