"""Input validation and representation of the staging routes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.file_serializers import FileRecordSerializer, file_record_shown
from catalog.serializers import PromptsSerializer, StrictCharField
from migration_app.models import PendingModel
from migration_app.services.promotion import STRATEGIES, strategy_clean
from tags.serializers import TagSerializer

MAX_ID = 2**63 - 1


class PendingIdField(serializers.IntegerField):
    """A pending model id: a whole number (or digits in a string), never a boolean."""

    def __init__(self, **kwargs: Any):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class PendingModelSimpleSerializer(serializers.Serializer):
    """Items of GET /api/migration/pending_models (built by a selector)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()
    image = serializers.CharField(help_text="File name of the first pending image, or ''.")
    tags = TagSerializer(many=True)
    architecture = serializers.CharField(help_text="From the file's header: sd1, sdxl, flux1, ...")
    base_model = serializers.CharField(help_text="SD 1.5, SDXL 1.0, Pony, Flux.1 D, ... or ''.")
    kind = serializers.CharField(help_text="checkpoint, lora, vae, embedding, ... or unknown.")


class PendingModelListSerializer(serializers.Serializer):
    models = PendingModelSimpleSerializer(many=True)
    total = serializers.IntegerField(required=False, help_text="Only with limit or offset.")


class PendingMetaJsonSerializer(serializers.Serializer):
    description = serializers.CharField()
    community_links = serializers.CharField()
    images = serializers.ListField(child=serializers.CharField())
    prompts = PromptsSerializer()


class PendingModelFullSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="display_name")
    meta_json = serializers.SerializerMethodField()
    tags = TagSerializer(many=True)
    file = serializers.SerializerMethodField()

    class Meta:
        model = PendingModel
        fields = [
            "id",
            "path",
            "sha256",
            "name",
            "type",
            "size_bytes",
            "created_at",
            "meta_json",
            "tags",
            "file",
        ]

    @extend_schema_field(PendingMetaJsonSerializer)
    def get_meta_json(self, pending: PendingModel) -> dict[str, Any]:
        return {
            "description": pending.description,
            "community_links": pending.community_links,
            "images": [image.file_name for image in pending.images.all()],
            "prompts": {"positive": pending.prompt_positive, "negative": pending.prompt_negative},
        }

    @extend_schema_field(FileRecordSerializer)
    def get_file(self, pending: PendingModel) -> dict[str, Any]:
        return file_record_shown(pending.file_info, path=pending.path, sha256=pending.sha256)


class PendingModelQuerySerializer(serializers.Serializer):
    id = PendingIdField()


class LegacyImportRequestSerializer(serializers.Serializer):
    legacy_db_path = StrictCharField(max_length=4096, help_text="The legacy SQLite file.")
    legacy_images_dir = StrictCharField(
        max_length=4096,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Folder holding the legacy images (optional).",
    )


class DbMigrationSerializer(serializers.Serializer):
    migrated = serializers.IntegerField(help_text="Hashed rows that created a catalog model.")
    merged = serializers.IntegerField(help_text="Hashed rows that changed a catalog model.")
    pending = serializers.IntegerField(help_text="Unhashed rows staged as pending models.")
    skipped = serializers.IntegerField(help_text="Rows with nothing left to import.")
    tags = serializers.IntegerField(help_text="Tags created.")
    errors = serializers.IntegerField(help_text="Rows and tags that could not be imported.")


class ImageMigrationSerializer(serializers.Serializer):
    processed = serializers.IntegerField(help_text="Legacy images stored.")
    missing = serializers.IntegerField()
    errors = serializers.IntegerField(help_text="Undecodable or unreadable images.")


class LegacyImportResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success", "failed"])
    db_migration = DbMigrationSerializer()
    image_migration = ImageMigrationSerializer()


@extend_schema_field({"type": "string", "enum": [*STRATEGIES, "null"], "nullable": True})
class StrategyField(serializers.Field):
    """null, "null" or one of the strategies; any other value is a 400."""

    def __init__(self, **kwargs: Any):
        super().__init__(required=False, allow_null=True, default=None, **kwargs)

    def to_internal_value(self, data: Any) -> str | None:
        return strategy_clean(data)

    def to_representation(self, value: Any) -> Any:
        return value


class PromoteRequestSerializer(serializers.Serializer):
    id = serializers.ListField(
        child=PendingIdField(), allow_empty=False, max_length=10000, help_text="Pending ids."
    )
    conflict_strategy = StrategyField()


class PromoteOneRequestSerializer(serializers.Serializer):
    id = PendingIdField()
    conflict_strategy = StrategyField()


class PendingRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    path = serializers.CharField()


class ExistingRefSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="sha256 of the catalog model.")
    path = serializers.CharField()


class ConflictSerializer(serializers.Serializer):
    pending = PendingRefSerializer()
    existing = ExistingRefSerializer()
    sha256 = serializers.CharField()


class FailedItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    error = serializers.CharField()


class PromoteResponseSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    success = serializers.ListField(child=serializers.IntegerField())
    conflict = ConflictSerializer(many=True)
    ignored = serializers.ListField(child=serializers.IntegerField())
    deleted = serializers.ListField(child=serializers.IntegerField())
    failed = FailedItemSerializer(many=True)


class PromoteOneResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success", "conflict", "ignored", "deleted", "error"])
    id = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="'' when the file could not be hashed.")
    error = serializers.CharField(required=False, help_text="With status error.")
    pending = PendingRefSerializer(required=False, help_text="With status conflict.")
    existing = ExistingRefSerializer(required=False, help_text="With status conflict.")
    deprecated = serializers.BooleanField()


class ScanRequestSerializer(serializers.Serializer):
    type = StrictCharField(
        max_length=64,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="One configured type; leave out (or blank) for every type.",
    )


class ScanResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    scanned = serializers.IntegerField()
    pending_added = serializers.IntegerField()
    relinked = serializers.IntegerField(
        help_text="New files holding a missing catalog model's bytes, made its locations."
    )
    skipped = serializers.IntegerField()
    file_info_refreshed = serializers.IntegerField(
        help_text="Pending files whose size or mtime changed: their header was read again."
    )
    sidecars = serializers.IntegerField(
        help_text="New files with at least one sidecar or preview beside them (docs/sidecars.md)."
    )
    pending_ids = serializers.ListField(child=serializers.IntegerField())
