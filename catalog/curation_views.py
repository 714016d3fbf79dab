"""Curation routes: tag list with counts and facets, bulk edits, export."""

from __future__ import annotations

from django.db.models.functions import Lower
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.bulk import models_bulk
from catalog.curation_serializers import BulkResultSerializer, ModelBulkSerializer
from catalog.export import COLUMNS, FORMATS, export_chunks
from catalog.selectors import models_selected, tags_with_counts
from config.api import InvalidInput, page_bounds, page_slice, validated
from config.schema import PAGE_PARAMETERS
from tags.models import Tag
from tags.serializers import TagCountListSerializer, TagSerializer

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


def query_bool(params, key: str, default: bool = False) -> bool:
    """A true/false query parameter; anything else is a 400 naming it."""
    raw = params.get(key)
    if raw in (None, ""):
        return default
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidInput(
        f"{key} must be true or false.",
        code="invalid_filter",
        fields={key: ["Must be true or false."]},
    )


def filter_parameters(*, type_required: bool) -> list[OpenApiParameter]:
    """The list's filters, shared by the routes that select models the same way."""
    # Imported here: catalog.views builds LIST_PARAMETERS, this reuses them.
    from catalog.views import LIST_PARAMETERS

    parameters = []
    for parameter in LIST_PARAMETERS:
        if parameter.name in {"limit", "offset"}:
            continue
        if parameter.name == "type" and not type_required:
            parameter = OpenApiParameter(
                "type", str, description="A model type, or 'others'; all types when absent."
            )
        parameters.append(parameter)
    return parameters


class TagListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "counts",
                OpenApiTypes.BOOL,
                description="Add `count` (catalog models carrying the tag) to each tag; "
                "the list's filters then count within that selection (facets).",
            ),
            *filter_parameters(type_required=False),
            *PAGE_PARAMETERS,
        ],
        responses=TagCountListSerializer,
        summary="All tags sorted by name, optionally with counts (a page with limit/offset)",
        operation_id="tags_list",
    )
    def get(self, request: Request) -> Response:
        limit, offset = page_bounds(request.query_params)
        if query_bool(request.query_params, "counts"):
            # Counted in one pass over every tag; the page is cut from that list.
            rows, total = page_slice(tags_with_counts(params=request.query_params), limit, offset)
        else:
            tags, total = page_slice(Tag.objects.order_by(Lower("name"), "id"), limit, offset)
            rows = TagSerializer(tags, many=True).data
        body: dict = {"tags": rows}
        if total is not None:
            body["total"] = total
        return Response(body)


class ModelBulkView(APIView):
    @extend_schema(
        request=ModelBulkSerializer,
        responses=BulkResultSerializer,
        summary="Change many models at once: tags added, removed or set, fields set",
        description="The selection is `sha256` (a list) or `filter` (the list's query "
        "parameters). Tags are ids or names (names resolved without regard to case, "
        "created when missing). One transaction: an unknown sha256 or tag id is a 400 "
        "naming it and changes nothing. The number of SQL queries does not grow with "
        "the selection.",
        operation_id="models_bulk",
    )
    def post(self, request: Request) -> Response:
        data = validated(ModelBulkSerializer, request.data)
        result = models_bulk(
            sha256=data.get("sha256"),
            filters=data.get("filter"),
            add_tags=data.get("add_tags", []),
            remove_tags=data.get("remove_tags", []),
            set_tags=data.get("set_tags"),
            set_fields=data.get("set"),
        )
        return Response({"matched": result.matched, "changed": result.changed})


class ModelExportView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", str, enum=sorted(FORMATS), description="csv (default) or jsonl."
            ),
            *filter_parameters(type_required=False),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/x-ndjson"): OpenApiTypes.STR,
        },
        summary="Download every matching model as CSV or JSON lines (streamed)",
        description="Columns: " + ", ".join(COLUMNS) + ". CSV joins tags with ', ' and "
        "prefixes text starting with = + - @ with an apostrophe (spreadsheet formulas); "
        "JSON lines keep every value as it is, tags as a list.",
        operation_id="models_export",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        export_format = (request.query_params.get("format") or "csv").strip().lower()
        if export_format not in FORMATS:
            raise InvalidInput(
                "format must be csv or jsonl.",
                code="invalid_filter",
                fields={"format": ["Must be csv or jsonl."]},
            )
        queryset = models_selected(params=request.query_params)
        ordering = list(queryset.query.order_by) or ["name"]
        queryset = queryset.order_by(*ordering, "sha256")
        response = StreamingHttpResponse(
            export_chunks(queryset, export_format), content_type=FORMATS[export_format]
        )
        response["Content-Disposition"] = f'attachment; filename="models.{export_format}"'
        return response

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # ?format= names the export's format here, not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=True)
