from django.db import models

from catalog.models import display_name_for
from imaging.models import RenditionedImage
from tags.models import Tag


class PendingModel(models.Model):
    """A staged model file, not in the catalog yet; unique by its path."""

    path = models.CharField(max_length=4096, unique=True)
    name = models.CharField(max_length=512, blank=True)
    type = models.CharField(max_length=64, blank=True, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.BigIntegerField(default=0, help_text="Epoch milliseconds.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="Empty until hashed.")
    description = models.TextField(blank=True)
    community_links = models.TextField(blank=True)
    prompt_positive = models.TextField(blank=True)
    prompt_negative = models.TextField(blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="pending_models")
    staged_at = models.DateTimeField(auto_now_add=True)
    # The file's modification time when it was staged (0: unknown, e.g. from the
    # legacy database): a re-scan reads the header again only when it changed.
    mtime_ns = models.BigIntegerField(default=0)
    # What the file's header says about it (catalog.fileinfo): the API's ``file``.
    file_info = models.JSONField(default=dict, blank=True)
    architecture = models.CharField(max_length=32, blank=True)
    base_model = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = "pending model"
        indexes = [
            # A re-scan compares the walk with every row's (path, type, size,
            # mtime): read from this index alone, not from the wide rows.
            models.Index(
                fields=["path", "type", "size_bytes", "mtime_ns"], name="pending_stat_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or display_name_for(self.path)


class PendingImage(RenditionedImage):
    """A picture staged with a pending model; becomes a sample image on promotion."""

    storage_prefix = "pending"

    pending_model = models.ForeignKey(PendingModel, on_delete=models.CASCADE, related_name="images")
    position = models.PositiveIntegerField(default=0)
    # The name clients address it by: the legacy file name, e.g.
    # model_12_1700000000123_preview.png. Never all digits.
    file_name = models.CharField(max_length=255, db_index=True)

    class Meta:
        ordering = ["pending_model", "position", "id"]

    def __str__(self) -> str:
        return self.file_name
