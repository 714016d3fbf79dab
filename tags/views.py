"""Tag writes. GET /api/tags is served by catalog (catalog/curation_views.py): its
counts and facets filter catalog models, and this app does not import catalog."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorSerializer, NotFound, StatusSerializer, validated
from tags.models import Tag
from tags.serializers import (
    TagListSerializer,
    TagMergeResultSerializer,
    TagMergeSerializer,
    TagRenameSerializer,
    TagsAddSerializer,
    TagSerializer,
)
from tags.services import (
    tag_delete,
    tag_rename,
    tags_by_ids_or_invalid,
    tags_merge,
    tags_resolve_or_create,
)


class TagsAddView(APIView):
    @extend_schema(
        request=TagsAddSerializer,
        responses=TagListSerializer,
        summary="Create or resolve tags by name (case-insensitive)",
        operation_id="tags_add",
    )
    def post(self, request: Request) -> Response:
        data = validated(TagsAddSerializer, request.data)
        tags = tags_resolve_or_create(names=data["newtags"])
        return Response({"tags": TagSerializer(tags, many=True).data})


def _tag_or_404(tag_id: str) -> Tag:
    # The route takes any segment so that a malformed id is a JSON 404 from
    # here rather than the catch-all; ids are positive 64-bit integers.
    tag = None
    if tag_id.isascii() and tag_id.isdigit() and len(tag_id) <= 18:
        tag = Tag.objects.filter(pk=int(tag_id)).first()
    if tag is None:
        raise NotFound(f"No tag has id {tag_id[:40]}.", code="tag_not_found")
    return tag


class TagDetailView(APIView):
    # Renames and deletions change every model carrying the tag.
    requires_staff = True

    @extend_schema(
        request=TagRenameSerializer,
        responses=TagSerializer,
        summary="Rename a tag (409 on a name another tag has, unless merge is true)",
        operation_id="tag_rename",
    )
    def patch(self, request: Request, tag_id: str) -> Response:
        tag = _tag_or_404(tag_id)
        data = validated(TagRenameSerializer, request.data)
        tag = tag_rename(tag=tag, name=data["name"], merge=data["merge"])
        return Response(TagSerializer(tag).data)

    @extend_schema(
        request=None,
        responses={
            200: StatusSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No tag has this id."),
        },
        summary="Delete a tag: it leaves every catalog and pending model",
        operation_id="tag_delete",
    )
    def delete(self, request: Request, tag_id: str) -> Response:
        tag_delete(tag=_tag_or_404(tag_id))
        return Response({"status": "success"})


class TagMergeView(APIView):
    requires_staff = True

    @extend_schema(
        request=TagMergeSerializer,
        responses=TagMergeResultSerializer,
        summary="Merge tags: every link moves to `into`, the others are deleted",
        operation_id="tags_merge",
    )
    def post(self, request: Request) -> Response:
        data = validated(TagMergeSerializer, request.data)
        (target,) = tags_by_ids_or_invalid([data["into"]], field="into")
        sources = tags_by_ids_or_invalid(data["from"], field="from")
        merged = tags_merge(target=target, sources=sources)
        target.refresh_from_db()
        return Response({"tag": TagSerializer(target).data, "merged": merged})
