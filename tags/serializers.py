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
