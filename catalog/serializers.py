"""Representation of catalog models, and validation of PATCH input."""

from __future__ import annotations

import json
import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.file_serializers import FileRecordSerializer, file_record_shown
from catalog.models import MAX_RATING, CatalogModel
from tags.serializers import TagSerializer


class PromptsSerializer(serializers.Serializer):
    positive = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    negative = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)


class MetaJsonSerializer(serializers.Serializer):
    """The four known keys; any other key is kept as the client sent it."""

    description = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    community_links = serializers.CharField(allow_blank=True, trim_whitespace=False, required=False)
    images_count = serializers.IntegerField(read_only=True)
    prompts = PromptsSerializer(required=False)


class StrictBooleanField(serializers.BooleanField):
    """JSON true or false only: "yes", 1 or "false" are refused rather than guessed."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer only (not a string, a boolean or 4.0)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(serializers.CharField):
    """A CharField that refuses numbers, lists and objects instead of coercing them."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def _reject_constant(name: str) -> float:
    # NaN and Infinity are not JSON: the database and the JSON renderer refuse them.
    raise ValueError(f"{name} is not allowed in JSON.")


def _holds_nul(value: Any) -> bool:
    """Whether a NUL character hides in any key or string (PostgreSQL refuses those)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


META_JSON_SCHEMA = {
    "oneOf": [
        {
            "type": "object",
            "additionalProperties": True,
            "properties": {
                "description": {"type": "string"},
                "community_links": {"type": "string"},
                "images_count": {"type": "integer", "readOnly": True},
                "prompts": {
                    "type": "object",
                    "properties": {
                        "positive": {"type": "string"},
                        "negative": {"type": "string"},
                    },
                },
            },
        },
        {"type": "string", "description": "A string holding a JSON object."},
    ],
    "description": "Known keys are type-checked; images_count is ignored; other keys are "
    "kept (a null value removes one).",
}


@extend_schema_field(META_JSON_SCHEMA)
class MetaJsonField(serializers.Field):
    """An object, or a string holding a JSON object (the previous client sent those)."""

    default_error_messages = {
        "invalid": "Must be an object or a string holding a JSON object.",
        "not_string": "{name} must be a string.",
        "nul": "Text may not contain NUL characters.",
    }

    def to_internal_value(self, data: Any) -> dict:
        if isinstance(data, str):
            try:
                data = json.loads(data, parse_constant=_reject_constant) if data.strip() else {}
            except (ValueError, RecursionError):
                self.fail("invalid")
        if not isinstance(data, dict):
            self.fail("invalid")
        for key in ("description", "community_links"):
            if key in data and not isinstance(data[key], str):
                self.fail("not_string", name=key)
        prompts = data.get("prompts")
        if prompts is not None and not (
            isinstance(prompts, dict)
            and all(isinstance(prompts.get(k, ""), str) for k in ("positive", "negative"))
        ):
            raise serializers.ValidationError(
                "prompts must be an object with string positive and negative."
            )
        if _holds_nul(data):
            self.fail("nul")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "integer"},
            {
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "required": ["id"],
                "additionalProperties": True,
            },
        ],
        "description": "A tag id, or a tag object of which only id is read.",
    }
)
class TagRefField(serializers.Field):
    """A tag given as its id or as an object holding ``id``."""

    default_error_messages = {"invalid": "Each tag must be an id or an object with an id."}

    def to_internal_value(self, data: Any) -> int:
        value = data.get("id") if isinstance(data, dict) else data
        if isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,19}\s*", value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail("invalid")
        return value

    def to_representation(self, value: Any) -> Any:
        return value


class CatalogModelPatchSerializer(serializers.Serializer):
    name = StrictCharField(max_length=512, allow_blank=True, required=False)
    type = StrictCharField(max_length=64, allow_blank=True, required=False)
    path = StrictCharField(max_length=4096, allow_blank=True, required=False)
    tags = serializers.ListField(child=TagRefField(), required=False, max_length=10000)
    meta_json = MetaJsonField(required=False)
    favorite = StrictBooleanField(required=False)
    rating = StrictIntegerField(required=False, min_value=0, max_value=MAX_RATING)
    nsfw = StrictBooleanField(required=False)


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
    architecture = serializers.CharField(help_text="From the file's header: sd1, sdxl, flux1, ...")
    base_model = serializers.CharField(help_text="SD 1.5, SDXL 1.0, Pony, Flux.1 D, ... or ''.")
    kind = serializers.CharField(help_text="checkpoint, lora, vae, embedding, ... or unknown.")
    missing = serializers.BooleanField(help_text="No location of the file exists on disk.")
    missing_since = serializers.IntegerField(
        allow_null=True, help_text="Epoch milliseconds since the model went missing, else null."
    )
    favorite = serializers.BooleanField()
    rating = serializers.IntegerField(help_text="0 = none, else 1 to 5 stars.")
    nsfw = serializers.BooleanField()


class CatalogModelListSerializer(serializers.Serializer):
    models = CatalogModelSimpleSerializer(many=True)
    total = serializers.IntegerField(required=False, help_text="Only with limit or offset.")


class LocationSerializer(serializers.Serializer):
    """One known copy of a model's file (docs/library-health.md)."""

    path = serializers.CharField()
    size_bytes = serializers.IntegerField()
    missing = serializers.BooleanField()
    missing_since = serializers.IntegerField(allow_null=True, help_text="Epoch milliseconds.")


class CatalogModelFullSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    meta_json = serializers.SerializerMethodField()
    tags = TagSerializer(many=True)
    locations = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()

    class Meta:
        model = CatalogModel
        fields = [
            "sha256",
            "name",
            "type",
            "path",
            "size_bytes",
            "created_at",
            "meta_json",
            "tags",
            "missing",
            "missing_since",
            "locations",
            "favorite",
            "rating",
            "nsfw",
            "file",
        ]

    @extend_schema_field(MetaJsonSerializer)
    def get_meta_json(self, model: CatalogModel) -> dict[str, Any]:
        return meta_json_of(model)

    @extend_schema_field(FileRecordSerializer)
    def get_file(self, model: CatalogModel) -> dict[str, Any]:
        return file_record_shown(model.file_info, path=model.path, sha256=model.sha256)

    @extend_schema_field(LocationSerializer(many=True))
    def get_locations(self, model: CatalogModel) -> list[dict[str, Any]]:
        # The primary location (``path``) first, then the others oldest first.
        locations = sorted(
            model.locations.all(), key=lambda item: (item.path != model.path, item.pk)
        )
        return LocationSerializer(locations, many=True).data


class TypesSerializer(serializers.Serializer):
    types = serializers.ListField(child=serializers.CharField())
