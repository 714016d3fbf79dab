"""GET /api/models/lookup: a catalog model by any of its hashes."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.lookup import AmbiguousHash, model_lookup
from catalog.serializers import CatalogModelFullSerializer
from config.api import ErrorSerializer, error_body

AMBIGUOUS = inline_serializer(
    "AmbiguousHash",
    fields={
        "error": serializers.CharField(),
        "code": serializers.CharField(),
        "candidates": serializers.ListField(child=serializers.CharField()),
    },
)


class ModelLookupView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "hash",
                str,
                required=True,
                description="A sha256, tensor_sha256, AutoV3 (12 hex), AutoV2 (10) or AutoV1 "
                "(8); any case; an optional prefix such as 'sha256:' or 'autov2:' limits "
                "the search to that form.",
            )
        ],
        responses={
            200: CatalogModelFullSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Not a hash."),
            404: OpenApiResponse(ErrorSerializer, description="No catalog model has it."),
            409: OpenApiResponse(AMBIGUOUS, description="Several models have it."),
        },
        summary="Find a catalog model by sha256, tensor hash or AutoV1/V2/V3",
        operation_id="models_lookup",
    )
    def get(self, request: Request) -> Response:
        try:
            model = model_lookup(value=request.query_params.get("hash", ""))
        except AmbiguousHash as exc:
            body = error_body(exc.message, exc.code) | {"candidates": exc.candidates}
            return Response(body, status=exc.status)
        return Response(CatalogModelFullSerializer(model).data)
