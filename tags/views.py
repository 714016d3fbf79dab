from django.db.models.functions import Lower
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import validated
from tags.models import Tag
from tags.serializers import TagListSerializer, TagsAddSerializer, TagSerializer
from tags.services import tags_resolve_or_create


class TagListView(APIView):
    @extend_schema(
        responses=TagListSerializer,
        summary="All tags, sorted by name",
        operation_id="tags_list",
    )
    def get(self, request: Request) -> Response:
        return Response(
            {"tags": TagSerializer(Tag.objects.order_by(Lower("name"), "id"), many=True).data}
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
