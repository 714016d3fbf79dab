"""Routes of the staging area: pending models, legacy import, promotion, scan."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import NotFound, page_bounds, validated
from config.schema import PAGE_PARAMETERS
from imaging.responses import parse_quality, rendition_response
from jobs.serializers import JobSerializer
from jobs.views import RESPOND_ASYNC_PARAMETER, submit_async, wants_async
from migration_app.selectors import pending_image_find, pending_model_get, pending_model_list
from migration_app.serializers import (
    LegacyImportRequestSerializer,
    LegacyImportResponseSerializer,
    PendingModelFullSerializer,
    PendingModelListSerializer,
    PendingModelQuerySerializer,
    PromoteOneRequestSerializer,
    PromoteOneResponseSerializer,
    PromoteRequestSerializer,
    PromoteResponseSerializer,
    ScanRequestSerializer,
    ScanResponseSerializer,
)
from migration_app.services.folder_scan import folder_scan
from migration_app.services.legacy_import import legacy_db_import
from migration_app.services.promotion import (
    pending_model_promote,
    pending_models_promote,
    promotion_body,
)

SUCCESSOR = "/api/migration/import_models"


class PendingModelListView(APIView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=PendingModelListSerializer,
        summary="Pending models, oldest first (a page with limit/offset)",
    )
    def get(self, request: Request) -> Response:
        limit, offset = page_bounds(request.query_params)
        rows, total = pending_model_list(limit=limit, offset=offset)
        body: dict = {"models": rows}
        if total is not None:
            body["total"] = total
        return Response(body)


class PendingModelDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, required=True)],
        responses=PendingModelFullSerializer,
        summary="One pending model (alias used by the previous web client)",
    )
    def get(self, request: Request) -> Response:
        pending_id = validated(PendingModelQuerySerializer, request.query_params)["id"]
        return Response(PendingModelFullSerializer(pending_model_get(pending_id=pending_id)).data)


class PendingImageView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("quality", str, enum=["high", "medium", "low"], default="high"),
        ],
        responses={
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, "The WebP rendition."),
            304: OpenApiResponse(description="Not modified (ETag matched)."),
        },
        summary="A rendition of a pending image, by file name or pending model id",
    )
    def get(self, request: Request, name: str) -> HttpResponseBase:
        quality = parse_quality(request.query_params.get("quality"))
        image = pending_image_find(name=name)
        return rendition_response(request, image=image, quality=quality)


class LegacyImportView(APIView):
    requires_staff = True

    @extend_schema(
        request=LegacyImportRequestSerializer,
        parameters=[RESPOND_ASYNC_PARAMETER],
        responses={200: LegacyImportResponseSerializer, 202: JobSerializer},
        summary="Stage 1: import the legacy SQLite database",
    )
    def post(self, request: Request) -> Response:
        if wants_async(request):
            return submit_async(request, kind="legacy_import", params=request.data)
        data = validated(LegacyImportRequestSerializer, request.data)
        report = legacy_db_import(
            db_path=data["legacy_db_path"],
            images_dir=data.get("legacy_images_dir"),
            allowed_roots=settings.LEGACY_IMPORT_ROOTS,
        )
        return Response(report.as_dict())


class PromoteView(APIView):
    requires_staff = True

    @extend_schema(
        request=PromoteRequestSerializer,
        parameters=[RESPOND_ASYNC_PARAMETER],
        responses={207: PromoteResponseSerializer, 202: JobSerializer},
        summary="Stage 2: promote pending models into the catalog",
    )
    def post(self, request: Request) -> Response:
        if wants_async(request):
            return submit_async(request, kind="promote", params=request.data)
        data = validated(PromoteRequestSerializer, request.data)
        outcomes = pending_models_promote(ids=data["id"], strategy=data["conflict_strategy"])
        return Response(promotion_body(outcomes), status=207)


class PromoteOneView(APIView):
    requires_staff = True

    @extend_schema(
        request=PromoteOneRequestSerializer,
        responses=PromoteOneResponseSerializer,
        deprecated=True,
        summary="Stage 2 for one id (deprecated: use import_models)",
    )
    def post(self, request: Request) -> Response:
        data = validated(PromoteOneRequestSerializer, request.data)
        outcome = pending_model_promote(pending_id=data["id"], strategy=data["conflict_strategy"])
        if outcome.unknown_id:
            raise NotFound(outcome.error, code="pending_not_found")
        headers = {"Deprecation": "true", "Link": f'<{SUCCESSOR}>; rel="successor-version"'}
        return Response({**outcome.as_item(), "deprecated": True}, headers=headers)


class ScanView(APIView):
    requires_staff = True

    @extend_schema(
        request=ScanRequestSerializer,
        parameters=[RESPOND_ASYNC_PARAMETER],
        responses={200: ScanResponseSerializer, 202: JobSerializer},
        summary="Stage the model files found under the configured roots",
    )
    def post(self, request: Request) -> Response:
        if wants_async(request):
            return submit_async(request, kind="scan", params=request.data)
        data = validated(ScanRequestSerializer, request.data)
        return Response(folder_scan(model_type=data.get("type") or None).as_dict())
