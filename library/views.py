"""Routes of library health: verify, duplicates, stats."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import validated
from jobs.serializers import JobSerializer
from jobs.views import RESPOND_ASYNC_PARAMETER, submit_async, wants_async
from library.selectors import duplicates_report, library_stats
from library.serializers import (
    DuplicatesSerializer,
    StatsSerializer,
    VerifyRequestSerializer,
    VerifyResponseSerializer,
)
from library.services.verify import library_verify


class VerifyView(APIView):
    requires_staff = True

    @extend_schema(
        request=VerifyRequestSerializer,
        parameters=[RESPOND_ASYNC_PARAMETER],
        responses={200: VerifyResponseSerializer, 202: JobSerializer},
        summary="Verify every location and pending file against the disk",
        description="Marks missing files, restores found ones, re-hashes changed ones "
        "(docs/library-health.md). Never modifies a model file.",
        operation_id="library_verify",
    )
    def post(self, request: Request) -> Response:
        if wants_async(request):
            return submit_async(request, kind="verify", params=request.data)
        validated(VerifyRequestSerializer, request.data)
        return Response(library_verify().as_dict())


class DuplicatesView(APIView):
    @extend_schema(
        responses=DuplicatesSerializer,
        summary="Catalog models stored more than once, largest reclaimable bytes first",
        operation_id="library_duplicates",
    )
    def get(self, request: Request) -> Response:
        return Response(duplicates_report())


class StatsView(APIView):
    @extend_schema(
        responses=StatsSerializer,
        summary="Counts and bytes by type and base model; missing and pending counts",
        operation_id="library_stats",
    )
    def get(self, request: Request) -> Response:
        return Response(library_stats())
