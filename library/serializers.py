"""Shapes of the library health routes (documented for OpenAPI; built by services and selectors)."""

from __future__ import annotations

from rest_framework import serializers


class VerifyRequestSerializer(serializers.Serializer):
    """No options: a verify looks at every location and every pending file."""


class FailureSerializer(serializers.Serializer):
    path = serializers.CharField()
    error = serializers.CharField()


class VerifyResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    checked = serializers.IntegerField(help_text="Locations and pending files looked at.")
    missing = serializers.IntegerField(help_text="Of those, not found on disk.")
    restored = serializers.IntegerField(help_text="Missing before, found again.")
    changed = serializers.IntegerField(help_text="Size or modification time changed.")
    unchanged = serializers.IntegerField()
    staged = serializers.IntegerField(
        help_text="Changed files holding other bytes, staged as pending models."
    )
    linked = serializers.IntegerField(
        help_text="Changed files holding another catalog model's bytes, made its locations."
    )
    failed = serializers.IntegerField(help_text="Files that could not be looked at or read.")
    failures = FailureSerializer(many=True, help_text="The first 100 failures.")


class DuplicateLocationSerializer(serializers.Serializer):
    path = serializers.CharField()
    same_file_as = serializers.CharField(
        allow_null=True, help_text="An earlier path of the same file (hard link, symlink)."
    )


class DuplicateGroupSerializer(serializers.Serializer):
    sha256 = serializers.CharField()
    name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    copies = serializers.IntegerField(help_text="Distinct files holding these bytes.")
    reclaimable_bytes = serializers.IntegerField(help_text="(copies - 1) x size_bytes.")
    locations = DuplicateLocationSerializer(many=True)


class DuplicatesSerializer(serializers.Serializer):
    groups = DuplicateGroupSerializer(many=True)
    total_reclaimable_bytes = serializers.IntegerField()


class TypeStatsSerializer(serializers.Serializer):
    type = serializers.CharField()
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()
    missing = serializers.IntegerField()


class BaseModelStatsSerializer(serializers.Serializer):
    base_model = serializers.CharField()
    count = serializers.IntegerField()
    bytes = serializers.IntegerField()
    missing = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    models = serializers.IntegerField()
    bytes = serializers.IntegerField()
    missing = serializers.IntegerField(help_text="Catalog models with no location on disk.")
    locations = serializers.IntegerField()
    missing_locations = serializers.IntegerField()
    by_type = TypeStatsSerializer(many=True)
    by_base_model = BaseModelStatsSerializer(many=True)
    pending = serializers.IntegerField()
    pending_hashed = serializers.IntegerField()
    pending_bytes = serializers.IntegerField()
