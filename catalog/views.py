from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.selectors import model_get, model_list, model_types
from catalog.serializers import (
    CatalogModelFullSerializer,
    CatalogModelListSerializer,
    CatalogModelPatchSerializer,
    TypesSerializer,
)
from catalog.services import catalog_model_delete, catalog_model_update
from config.api import (
    ErrorSerializer,
    InvalidInput,
    StatusSerializer,
    normalize_sha256,
    validated,
)
from config.authentication import token_mode
from config.permissions import StaffRequired


class HelloView(APIView):
    allow_anonymous = True  # health checks need no token (config/permissions.py)

    @extend_schema(
        responses={200: {"type": "object", "properties": {"status": {"type": "string"}}}},
        summary="Health check",
        operation_id="hello",
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class ModelTypesView(APIView):
    @extend_schema(
        responses=TypesSerializer,
        summary="Configured and present model types",
        operation_id="models_get_types",
    )
    def get(self, request: Request) -> Response:
        return Response({"types": model_types()})


LIST_PARAMETERS = [
    OpenApiParameter("type", str, required=True, description="A model type, or 'others'."),
    OpenApiParameter(
        "q",
        str,
        description='Words and "quoted phrases"; each must occur (any case) in the name, '
        "path, description, a trigger word or a tag name.",
    ),
    OpenApiParameter("tags", str, description="Comma-separated tag ids; models with all."),
    OpenApiParameter("tags_any", str, description="Comma-separated tag ids; models with one."),
    OpenApiParameter("exclude_tags", str, description="Comma-separated tag ids to exclude."),
    OpenApiParameter(
        "base_model", str, description="Base model label from the file, any case: 'SDXL 1.0'."
    ),
    OpenApiParameter("architecture", str, description="Architecture id: sd1, sdxl, flux1, ..."),
    OpenApiParameter("kind", str, description="checkpoint, lora, vae, embedding, ..."),
    OpenApiParameter("favorite", OpenApiTypes.BOOL, description="true or false."),
    OpenApiParameter("nsfw", OpenApiTypes.BOOL, description="true or false."),
    OpenApiParameter(
        "missing", OpenApiTypes.BOOL, description="true: no copy of the file is on disk."
    ),
    OpenApiParameter("min_rating", OpenApiTypes.INT, description="0 to 5: rating at least this."),
    OpenApiParameter(
        "ordering",
        str,
        description="name, type, path, size_bytes, created_at, sha256, images_count, "
        "rating or base_model; '-' for descending.",
    ),
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size; adds 'total'."),
    OpenApiParameter("offset", OpenApiTypes.INT, description="Items to skip; adds 'total'."),
]


class ModelListView(APIView):
    @extend_schema(
        parameters=LIST_PARAMETERS,
        responses=CatalogModelListSerializer,
        summary="Catalog models of one type",
        operation_id="models_list",
    )
    def get(self, request: Request) -> Response:
        model_type = request.query_params.get("type", "").strip()
        if not model_type:
            raise InvalidInput(
                "The query parameter type is required (a model type or 'others').",
                code="type_required",
                fields={"type": ["This parameter is required."]},
            )
        rows, total = model_list(model_type=model_type, params=request.query_params)
        body: dict = {"models": rows}
        if total is not None:
            body["total"] = total
        return Response(body)


class ModelDetailView(APIView):
    @extend_schema(
        responses=CatalogModelFullSerializer,
        summary="One catalog model",
        operation_id="model_retrieve",
    )
    def get(self, request: Request, sha256: str) -> Response:
        model = model_get(sha256=normalize_sha256(sha256))
        return Response(CatalogModelFullSerializer(model).data)

    @extend_schema(
        request=CatalogModelPatchSerializer,
        responses=CatalogModelFullSerializer,
        summary="Update name, type, path, tags, meta_json, favorite, rating or nsfw",
        operation_id="model_update",
    )
    def patch(self, request: Request, sha256: str) -> Response:
        model = model_get(sha256=normalize_sha256(sha256))
        data = validated(CatalogModelPatchSerializer, request.data)
        catalog_model_update(model=model, data=data)
        return Response(CatalogModelFullSerializer(model_get(sha256=model.sha256)).data)

    @extend_schema(
        request=None,
        responses={
            200: StatusSerializer,
            403: OpenApiResponse(ErrorSerializer, description="Not staff (API_AUTH=token)."),
            404: OpenApiResponse(ErrorSerializer, description="No catalog model has it."),
        },
        summary="Remove a model from the catalog (never its file)",
        description="Removes the record, its tag links, its locations and its sample images "
        "(their files too). The model file on disk is never touched. Staff only with "
        "API_AUTH=token.",
        operation_id="model_delete",
    )
    def delete(self, request: Request, sha256: str) -> Response:
        sha256 = normalize_sha256(sha256)
        # GET and PATCH are open to every user; removing a record is a staff action.
        if token_mode() and not request.user.is_staff:
            raise StaffRequired()
        catalog_model_delete(sha256=sha256)
        return Response({"status": "success"})
