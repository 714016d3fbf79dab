import uuid

from django.apps import apps
from django.db import models

from catalog.models import CatalogModel
from imaging.files import TrackedImageField


class Quality(models.TextChoices):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


def original_upload_to(instance: "RenditionedImage", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"{instance.storage_prefix}/originals/{instance.uid}.{extension[:10]}"


class RenditionedImage(models.Model):
    """An uploaded picture kept as its original plus three WebP renditions.

    Rendition file names come from ``uid``, a stable id of the row, never from a
    position, so reordering rows renames no file. The post-save signal of
    ``imaging.signals`` renders them for every concrete subclass.
    """

    storage_prefix = "images"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    original = TrackedImageField(upload_to=original_upload_to, max_length=255)
    # SHA-256 of the original's bytes: the same picture is not added twice.
    content_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    def rendition_name(self, quality: str) -> str:
        return f"{self.storage_prefix}/renditions/{self.uid}_{quality}.webp"

    def rendition_names(self) -> list[str]:
        return [self.rendition_name(quality) for quality in Quality.values]


class SampleImage(RenditionedImage):
    """A sample picture of a catalog model, addressed publicly by (sha256, seq)."""

    model = models.ForeignKey(CatalogModel, on_delete=models.CASCADE, related_name="images")
    seq = models.PositiveIntegerField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["model", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["model", "seq"], name="sample_image_model_seq_unique"),
        ]

    def __str__(self) -> str:
        return self.base_name

    @property
    def base_name(self) -> str:
        return f"{self.model_id}_{self.seq}"


def renditioned_models() -> list[type[RenditionedImage]]:
    """Every installed model with renditions (SampleImage, the staging app's
    PendingImage, proxies too: they send signals under their own class)."""
    return [model for model in apps.get_models() if issubclass(model, RenditionedImage)]
