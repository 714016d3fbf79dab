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
    # What the file's header says about it (catalog.fileinfo): the API's ``file``
    # record. The columns below repeat the parts that are filtered or looked up,
    # so lists and lookups never read this JSON.
    file_info = models.JSONField(default=dict, blank=True)
    architecture = models.CharField(max_length=32, blank=True)
    base_model = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=32, blank=True)
    # Short hashes that image metadata and model sites quote (docs/file-intelligence.md).
    autov1 = models.CharField(max_length=8, blank=True)
    autov2 = models.CharField(max_length=10, blank=True)
    autov3 = models.CharField(max_length=12, blank=True)
    tensor_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["name", "sha256"]
        verbose_name = "catalog model"
        indexes = [
            models.Index(fields=["path"], name="catalog_path_idx"),
            models.Index(fields=["architecture"], name="catalog_arch_idx"),
            models.Index(fields=["base_model"], name="catalog_base_model_idx"),
            models.Index(fields=["kind"], name="catalog_kind_idx"),
            models.Index(fields=["autov1"], name="catalog_autov1_idx"),
            models.Index(fields=["autov2"], name="catalog_autov2_idx"),
            models.Index(fields=["autov3"], name="catalog_autov3_idx"),
            models.Index(fields=["tensor_sha256"], name="catalog_tensor_sha256_idx"),
        ]

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
    # SHA-256 of a safetensors file's bytes after its header, from the same read;
    # empty for other formats and for rows cached before it was computed.
    tensor_sha256 = models.CharField(max_length=64, blank=True)
    hashed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "file hash"
        verbose_name_plural = "file hashes"

    def __str__(self) -> str:
        return f"{self.sha256[:12]} {self.path}"
