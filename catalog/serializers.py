"""Representation of catalog models, and validation of PATCH input."""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import CatalogModel
from tags.serializers import TagSerializer


class PromptsSerializer(serializers.Serializer):
    positive = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    negative = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)


class MetaJsonSerializer(serializers.Serializer):
    """The four known keys; any other key is kept as the client sent it."""

    description = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    community_links = serializers.CharField(
        allow_blank=True, trim_whitespace=False, required=False
    )
    images_count = serializers.IntegerField(read_only=True)
    prompts = PromptsSerializer(required=False)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, lists and objects instead of coercing them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class MetaJsonField(serializers.Field):
    """An object, or a string holding a JSON object (the previous client sent those)."""

    default_error_messages = {
        "invalid": "Must be an object or a string holding a JSON object.",
        "not_string": "{key} must be a string.",
    }

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, str):
            try:
                data = json.loads(data) if data.strip() else {}
            except ValueError:
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        for key in ("description", "community_links"):
            if key in data and not isinstance(data[key], str):
                self.fail("not_string", key=key)
        prompts = data.get("prompts")
        if prompts is not None and not (
            isinstance(prompts, dict)
            and all(isinstance(prompts.get(k, ""), str) for k in ("positive", "negative"))
        ):
            raise serializers.ValidationError(
                "prompts must be an object with string positive and negative."
            )
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class TagRefField(serializers.Field):
    """A tag given as its id or as an object holding ``id``."""

    default_error_messages = {"invalid": "Each tag must be an id or an object with an id."}

    def to_internal_value(self, data: Any) -> int:
        value = data.get("id") if isinstance(data, dict) else data
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail("invalid")
        if isinstance(value, str) and not value.strip().isdigit():
            self.fail("invalid")
        return int(value)

    def to_representation(self, value: Any) -> Any:
        return value


class CatalogModelPatchSerializer(serializers.Serializer):
    name = StrictCharField(max_length=512, allow_blank=True, required=False)
    type = StrictCharField(max_length=64, allow_blank=True, required=False)
    path = StrictCharField(max_length=4096, allow_blank=True, required=False)
    tags = serializers.ListField(child=TagRefField(), required=False, max_length=10000)
    meta_json = MetaJsonField(required=False)


def meta_json_of(model: CatalogModel) -> dict[str, Any]:
    """The record's meta_json: the four known keys first, then any a client stored."""
    meta = dict(model.extra_meta or {})
    meta.update(
        {
            "description": model.description,
            "community_links": model.community_links,
            "images_count": getattr(model, "images_count", 0) or 0,
            "prompts": {"positive": model.prompt_positive, "negative": model.prompt_negative},
        }
    )
    return meta


class CatalogModelSimpleSerializer(serializers.Serializer):
    """Items of GET /api/models (built by a selector; this documents the shape)."""

    sha256 = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    path = serializers.CharField()
    size_bytes = serializers.IntegerField()
    created_at = serializers.IntegerField(help_text="Epoch milliseconds.")
    images_count = serializers.IntegerField()
    tags = TagSerializer(many=True)


class CatalogModelListSerializer(serializers.Serializer):
    models = CatalogModelSimpleSerializer(many=True)
    total = serializers.IntegerField(required=False, help_text="Only with limit or offset.")


class CatalogModelFullSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    meta_json = serializers.SerializerMethodField()
    tags = TagSerializer(many=True)

    class Meta:
        model = CatalogModel
        fields = ["sha256", "name", "type", "path", "size_bytes", "created_at", "meta_json", "tags"]

    @extend_schema_field(MetaJsonSerializer)
    def get_meta_json(self, model: CatalogModel) -> dict[str, Any]:
        return meta_json_of(model)


class TypesSerializer(serializers.Serializer):
    types = serializers.ListField(child=serializers.CharField())
