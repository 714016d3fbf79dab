import os

from django.core.validators import RegexValidator
from django.db import models

from tags.models import Tag

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "Must be 64 lowercase hexadecimal characters.")

# The metadata keys every record carries; anything else a client stores is kept
# in ``extra_meta`` and returned beside them.
KNOWN_META_KEYS = ("description", "community_links", "images_count", "prompts")


class CatalogModel(models.Model):
    """A model file in the catalog, identified by the SHA-256 of its bytes."""

    sha256 = models.CharField(primary_key=True, max_length=64, validators=[sha256_validator])
    name = models.CharField(max_length=512, blank=True, db_index=True)
    type = models.CharField(max_length=64, blank=True, db_index=True)
    path = models.CharField(max_length=4096, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    created_at = models.BigIntegerField(default=0, help_text="Epoch milliseconds.")
    description = models.TextField(blank=True)
    community_links = models.TextField(blank=True)
    prompt_positive = models.TextField(blank=True)
    prompt_negative = models.TextField(blank=True)
    extra_meta = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="catalog_models")

    class Meta:
        ordering = ["name", "sha256"]
        verbose_name = "catalog model"
        indexes = [models.Index(fields=["path"], name="catalog_path_idx")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or display_name_for(self.path)


def display_name_for(path: str) -> str:
    """The file name of a path, whether it was written on Windows or POSIX."""
    return os.path.basename(path.replace("\\", "/"))


class FileHash(models.Model):
    """A SHA-256 remembered for a file whose (path, size, mtime_ns) has not changed."""

    path = models.CharField(max_length=4096, unique=True)
    size_bytes = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    sha256 = models.CharField(max_length=64, validators=[sha256_validator])
    hashed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "file hash"

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.path}"
