from rest_framework import serializers

from tags.models import Tag


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name"]


class TagListSerializer(serializers.Serializer):
    tags = TagSerializer(many=True)


class TagsAddSerializer(serializers.Serializer):
    newtags = serializers.ListField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False), max_length=1000
    )

    def to_internal_value(self, data):
        # CharField would coerce numbers to strings; the contract says an item
        # that is not a string is a 400.
        items = data.get("newtags") if isinstance(data, dict) else None
        if isinstance(items, list):
            bad = [index for index, item in enumerate(items) if not isinstance(item, str)]
            if bad:
                raise serializers.ValidationError(
                    {"newtags": [f"Item {bad[0]} is not a string; tag names are strings."]}
                )
        return super().to_internal_value(data)


class TagCountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    count = serializers.IntegerField(
        required=False, help_text="Catalog models carrying the tag (with counts=true)."
    )


class TagCountListSerializer(serializers.Serializer):
    tags = TagCountSerializer(many=True)
    total = serializers.IntegerField(required=False, help_text="Only with limit or offset.")


class StrictNameField(serializers.CharField):
    """A name that must be a JSON string (numbers are not coerced)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TagRenameSerializer(serializers.Serializer):
    name = StrictNameField(trim_whitespace=False, allow_blank=True)
    merge = serializers.BooleanField(
        default=False,
        help_text="When another tag has the name (any case), merge this tag into it "
        "instead of answering 409.",
    )


def tag_id_field(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=2**63 - 1, **kwargs)


class TagMergeSerializer(serializers.Serializer):
    into = tag_id_field(help_text="The tag that stays.")

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword: added here rather than as a class attribute.
        fields["from"] = serializers.ListField(
            child=tag_id_field(),
            min_length=1,
            max_length=10000,
            help_text="Tags merged into `into` and deleted.",
        )
        return fields


class TagMergeResultSerializer(serializers.Serializer):
    tag = TagSerializer()
    merged = serializers.IntegerField(help_text="Tags merged into it and deleted.")
