import os

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models

from tags.models import Tag

sha256_validator = RegexValidator(r"^[0-9a-f]{64}$", "Must be 64 lowercase hexadecimal characters.")

# The metadata keys every record carries; anything else a client stores is kept
# in ``extra_meta`` and returned beside them.
KNOWN_META_KEYS = ("description", "community_links", "images_count", "prompts")
MAX_RATING = 5


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
    # The curator's own marks (docs/curation.md).
    favorite = models.BooleanField(default=False)
    rating = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(MAX_RATING)], help_text="0 = none, else 1 to 5."
    )
    nsfw = models.BooleanField(default=False, verbose_name="NSFW")
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
    # Library health (docs/library-health.md): true when no location of the file
    # exists on disk, since ``missing_since`` (epoch ms). Kept on the row so that
    # lists and filters never look at the locations.
    missing = models.BooleanField(default=False)
    missing_since = models.BigIntegerField(null=True, blank=True, help_text="Epoch milliseconds.")

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
            # Few models are missing: a partial index finds them without a full scan.
            models.Index(
                fields=["missing"], condition=models.Q(missing=True), name="catalog_missing_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating__lte=MAX_RATING), name="catalog_rating_at_most_5"
            ),
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


class ModelLocation(models.Model):
    """One place on disk where a catalog model's bytes live: a copy, a hard link or a symlink.

    A path is a location of one model at most. ``CatalogModel.path`` repeats the
    primary location (the first one present), so old clients keep working.
    Rows only remember files: removing one never touches the file.
    """

    model = models.ForeignKey(CatalogModel, on_delete=models.CASCADE, related_name="locations")
    path = models.CharField(max_length=4096, unique=True)
    size_bytes = models.BigIntegerField(default=0)
    # The file's stat when it was last seen. mtime_ns 0 and no device/inode: never
    # seen yet (a location made from a model's path by the migration).
    mtime_ns = models.BigIntegerField(default=0)
    # st_dev and st_ino, stored as signed 64-bit values: hard links and symlinks
    # to one file share them.
    device = models.BigIntegerField(null=True, blank=True)
    inode = models.BigIntegerField(null=True, blank=True)
    missing = models.BooleanField(default=False)
    missing_since = models.BigIntegerField(null=True, blank=True, help_text="Epoch milliseconds.")

    class Meta:
        ordering = ["model", "id"]
        verbose_name = "model location"
        indexes = [
            # A scan's relink looks up missing locations by the size of new files.
            models.Index(fields=["missing", "size_bytes"], name="location_missing_size_idx"),
        ]

    def __str__(self) -> str:
        return self.path
