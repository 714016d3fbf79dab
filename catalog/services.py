"""Writes on catalog models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from catalog.fileinfo.hashes import file_digests
from catalog.fileinfo.record import tensor_data_offset
from catalog.hashing import file_stat
from catalog.models import KNOWN_META_KEYS, CatalogModel, FileHash
from config.api import InvalidInput, NotFound
from tags.models import Tag

MAX_TAG_ID = 2**63 - 1


def tags_by_ids(tag_ids: list[int]) -> list[Tag]:
    """The tags with these ids, in order; InvalidInput naming any unknown id."""
    unique_ids = list(dict.fromkeys(tag_ids))
    # An id outside the 64-bit key range cannot exist, and SQLite refuses to bind it.
    storable = [tag_id for tag_id in unique_ids if 0 < tag_id <= MAX_TAG_ID]
    found = {tag.pk: tag for tag in Tag.objects.filter(pk__in=storable)}
    missing = [tag_id for tag_id in unique_ids if tag_id not in found]
    if missing:
        listed = ", ".join(str(tag_id) for tag_id in missing)
        raise InvalidInput(
            f"Unknown tag id(s): {listed}. Create tags with POST /api/tags_add first.",
            code="unknown_tag",
            fields={"tags": [f"Unknown tag id: {tag_id}." for tag_id in missing]},
        )
    return [found[tag_id] for tag_id in unique_ids]


def apply_meta_json(model: Any, meta: dict[str, Any]) -> None:
    """Copy the keys present in ``meta`` onto a catalog or pending model.

    Known keys go to their columns; ``images_count`` is derived and ignored;
    other keys are kept in ``extra_meta`` (a null value removes one).
    """
    if "description" in meta:
        model.description = meta["description"]
    if "community_links" in meta:
        model.community_links = meta["community_links"]
    prompts = meta.get("prompts") or {}
    if "positive" in prompts:
        model.prompt_positive = prompts["positive"]
    if "negative" in prompts:
        model.prompt_negative = prompts["negative"]
    if hasattr(model, "extra_meta"):
        extra = dict(model.extra_meta or {})
        for key, value in meta.items():
            if key in KNOWN_META_KEYS:
                continue
            if value is None:
                extra.pop(key, None)
            else:
                extra[key] = value
        model.extra_meta = extra


@transaction.atomic
def catalog_model_update(*, model: CatalogModel, data: dict[str, Any]) -> CatalogModel:
    """Apply a validated PATCH to ``model``.

    ``tags`` replaces the model's tags; an unknown tag id raises InvalidInput
    before anything is written, so a bad request changes nothing.
    """
    tags = tags_by_ids(data["tags"]) if "tags" in data else None
    # Re-read under a row lock: the fields this request does not change keep
    # what another writer stored since ``model`` was read, and saving
    # meta_json's extra keys cannot interleave with another PATCH.
    model = CatalogModel.objects.select_for_update().get(pk=model.pk)
    previous_path = model.path
    for field in ("name", "type", "path"):
        if field in data:
            setattr(model, field, data[field].strip() if field != "path" else data[field])
    if "meta_json" in data:
        apply_meta_json(model, data["meta_json"])
    for field in ("favorite", "rating", "nsfw"):
        if field in data:
            setattr(model, field, data[field])
    model.save()
    if data.get("path") and data["path"] != previous_path:
        # The curator says the file is there: it becomes a location (the others
        # are kept) and the path stays as set. Imported here: catalog.locations
        # imports this module.
        from catalog.locations import location_add

        location_add(model=model, path=data["path"], keep_path=True)
    if tags is not None:
        model.tags.set(tags)
    return model


@transaction.atomic
def catalog_model_delete(*, sha256: str) -> None:
    """Remove a catalog model with its tag links, locations and sample images.

    Raises NotFound for an unknown sha256. The sample images' files are
    removed after commit (imaging's post-delete signal); the model file on
    disk is never touched, and a later scan stages it again as pending.
    """
    deleted, _ = CatalogModel.objects.filter(pk=sha256).delete()
    if not deleted:
        raise NotFound(f"No catalog model has sha256 {sha256}.", code="model_not_found")


class FileChanged(Exception):
    """The file changed while it was being read; its digest cannot be trusted."""


def file_sha256_cached(*, path: str) -> str:
    """The SHA-256 of the file at ``path``, read only if its stat changed.

    A digest is remembered by (path, size, mtime_ns) and accepted only when the
    stat is the same before and after reading. Raises FileNotFoundError for a
    missing file and FileChanged for a file written to while it was read.
    """
    return file_digest_cached(path=path).sha256


@dataclass(frozen=True)
class CachedDigest:
    sha256: str
    # Bytes read to compute it: 0 when the hash cache answered.
    bytes_read: int
    from_cache: bool
    # SHA-256 of a safetensors file's tensor data (docs/file-intelligence.md),
    # from the same read; "" for other formats and for cache rows older than it.
    tensor_sha256: str = ""


def file_digest_cached(*, path: str) -> CachedDigest:
    """``file_sha256_cached`` that also says how much it read, for reports.

    Same rules, same exceptions; writes the FileHash row when it read the file.
    """
    cached = FileHash.objects.filter(path=path).first()
    digest, entry = file_digest_read(path=path, cached=cached)
    if entry is not None:
        file_hashes_record(entries=[entry])
    return digest


def file_hashes_lookup(*, paths: Iterable[str]) -> dict[str, FileHash]:
    """The hash cache rows of ``paths``, by path: one query per 500 paths.

    For callers that hash many files: one query instead of one per file, and
    none from the threads that read the files (a connection per thread cost
    2 ms on SQLite and 50 ms on PostgreSQL per file, docs/PERFORMANCE.md).
    """
    paths = list(dict.fromkeys(paths))
    rows: dict[str, FileHash] = {}
    for start in range(0, len(paths), 500):
        for row in FileHash.objects.filter(path__in=paths[start : start + 500]):
            rows[row.path] = row
    return rows


def file_digest_read(*, path: str, cached: FileHash | None) -> tuple[CachedDigest, FileHash | None]:
    """``file_digest_cached`` without the database: ``cached`` is the path's
    cache row (or None), and the row to record is returned instead of written.

    Returns ``(digest, entry)``; ``entry`` is None when ``cached`` still matches
    the file's stat. Reads no database, so threads may call it. Raises
    FileNotFoundError / OSError and FileChanged as ``file_digest_cached`` does.
    """
    before = file_stat(path)
    if (
        cached is not None
        and cached.size_bytes == before.size_bytes
        and cached.mtime_ns == before.mtime_ns
    ):
        return (
            CachedDigest(cached.sha256, 0, from_cache=True, tensor_sha256=cached.tensor_sha256),
            None,
        )
    # A safetensors file's tensor hash comes from the same read (two digests
    # fed from the same buffers), so the file is read once for both.
    digests = file_digests(path, tensor_offset=tensor_data_offset(path))
    if file_stat(path) != before:
        raise FileChanged(f"{path} changed while it was being hashed; try again.")
    entry = FileHash(
        path=path,
        size_bytes=before.size_bytes,
        mtime_ns=before.mtime_ns,
        sha256=digests.sha256,
        tensor_sha256=digests.tensor_sha256,
    )
    digest = CachedDigest(
        digests.sha256, before.size_bytes, from_cache=False, tensor_sha256=digests.tensor_sha256
    )
    return digest, entry


def file_hashes_record(*, entries: list[FileHash]) -> None:
    """Write hash cache rows (from ``file_digest_read``), one upsert per 500.

    An upsert statement: update_or_create took a SELECT, a savepoint and an
    INSERT per file, a millisecond per promoted file (docs/PERFORMANCE.md).
    Writes FileHash rows.
    """
    # One row per path: a statement may not update the same row twice.
    unique = list({entry.path: entry for entry in entries}.values())
    if unique:
        FileHash.objects.bulk_create(
            unique,
            batch_size=500,
            update_conflicts=True,
            unique_fields=["path"],
            update_fields=["size_bytes", "mtime_ns", "sha256", "tensor_sha256", "hashed_at"],
        )
