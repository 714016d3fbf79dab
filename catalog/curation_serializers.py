"""Request and response shapes of the curation routes (bulk edits, export)."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.bulk import MAX_SHA256, filter_keys
from catalog.models import MAX_RATING
from catalog.serializers import StrictBooleanField, StrictCharField, StrictIntegerField

MAX_TAG_REFS = 1000
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "A tag id, or a tag name (any case; created when missing, "
        "except in remove_tags).",
    }
)
class TagRefOrNameField(serializers.Field):
    default_error_messages = {
        "invalid": "Each tag must be an id (an integer) or a name (a string).",
        "nul": "Tag names may not contain NUL characters.",
    }

    def to_internal_value(self, data: Any) -> int | str:
        if isinstance(data, bool) or not isinstance(data, int | str):
            self.fail("invalid")
        if isinstance(data, int) and not 0 < data < 2**63:
            self.fail("invalid")
        if isinstance(data, str) and "\x00" in data:
            self.fail("nul")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
        "maxItems": MAX_SHA256,
    }
)
class Sha256ListField(serializers.Field):
    """A list of sha256 (any case, returned lowercase), checked in one pass.

    Not a ListField of Sha256Field: running a field's validators per item
    took a second and a half for 10,000 items.
    """

    default_error_messages = {
        "not_a_list": "Must be a list of sha256.",
        "too_long": f"At most {MAX_SHA256:,} sha256 per request.",
        "invalid": "Item {index} is not 64 hexadecimal characters.",
    }

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_SHA256:
            self.fail("too_long")
        for index, item in enumerate(data):
            if not isinstance(item, str) or not _SHA256.fullmatch(item):
                self.fail("invalid", index=index)
        return [item.lower() for item in data]

    def to_representation(self, value: Any) -> Any:
        return value


def tag_refs(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(child=TagRefOrNameField(), max_length=MAX_TAG_REFS, **kwargs)


class StrictKeysSerializer(serializers.Serializer):
    """Refuses keys it does not know: a misspelled key must not pass unnoticed."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown key."] for key in unknown})
        return super().to_internal_value(data)


class BulkSetSerializer(StrictKeysSerializer):
    type = StrictCharField(max_length=64, allow_blank=True, required=False)
    favorite = StrictBooleanField(required=False)
    rating = StrictIntegerField(required=False, min_value=0, max_value=MAX_RATING)
    nsfw = StrictBooleanField(required=False)


class ModelBulkSerializer(StrictKeysSerializer):
    sha256 = Sha256ListField(
        required=False,
        help_text=f"The models to change (at most {MAX_SHA256:,}); or give `filter`.",
    )
    filter = serializers.DictField(
        required=False,
        help_text="The list's query parameters as an object: "
        + ", ".join(sorted(filter_keys()))
        + " (type optional). Lists of ids may be arrays.",
    )
    add_tags = tag_refs(required=False)
    remove_tags = tag_refs(required=False)
    set_tags = tag_refs(required=False, help_text="Replaces the tags of every model.")
    set = BulkSetSerializer(required=False)

    def validate(self, data: dict) -> dict:
        if ("sha256" in data) == ("filter" in data):
            raise serializers.ValidationError('Give either "sha256" or "filter".')
        if "set_tags" in data and (data.get("add_tags") or data.get("remove_tags")):
            raise serializers.ValidationError(
                "set_tags replaces every tag: it cannot be combined with add_tags or remove_tags."
            )
        if not any(data.get(key) for key in ("add_tags", "remove_tags", "set")) and (
            "set_tags" not in data
        ):
            raise serializers.ValidationError(
                "Nothing to change: give add_tags, remove_tags, set_tags or set."
            )
        if "type" in data.get("set", {}):
            data["set"]["type"] = data["set"]["type"].strip()
        return data


class BulkResultSerializer(serializers.Serializer):
    matched = serializers.IntegerField(help_text="Models the selection holds.")
    changed = serializers.IntegerField(help_text="Models this edit changed.")
