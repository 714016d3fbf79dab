"""File intelligence on catalog rows: the ``file`` record, its columns, the backfill.

The pure reading lives in ``catalog.fileinfo`` (no database); this module
stores what it finds: ``file_info`` holds the record, and the columns
``architecture``, ``base_model``, ``kind`` and the short hashes repeat the
parts that lists filter on and lookups search (docs/file-intelligence.md).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from catalog.fileinfo.record import file_record_of, summary_columns, with_hashes
from catalog.hashing import file_stat
from catalog.models import CatalogModel, FileHash
from config.progress import NULL_PROGRESS, Progress

logger = logging.getLogger(__name__)

# Catalog rows read and written per transaction by the backfill.
REFRESH_BATCH = 200
# The columns summary_columns fills, written with file_info.
FILE_INFO_COLUMNS = (
    "file_info",
    "architecture",
    "base_model",
    "kind",
    "autov1",
    "autov2",
    "autov3",
    "tensor_sha256",
)


def catalog_file_info_values(
    record: Mapping[str, Any], *, sha256: str, tensor_sha256: str = ""
) -> dict[str, Any]:
    """The catalog columns for a ``file`` record of the file whose SHA-256 is ``sha256``.

    The record's ``hashes`` get ``sha256``/``autov2`` and, when known,
    ``tensor_sha256``/``autov3``; the short-hash columns follow them.
    """
    record = with_hashes(record, sha256=sha256, tensor_sha256=tensor_sha256)
    return {"file_info": record, **summary_columns(record)}


@dataclass
class RefreshResult:
    refreshed: int = 0
    # Models whose file is not at their path: their record was kept as it was.
    missing: int = 0
    # Refreshed models whose header could not be read (header_error set).
    header_errors: int = 0
    missing_paths: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The command's summary and the refresh_file_info job's result."""
        return {
            "refreshed": self.refreshed,
            "missing": self.missing,
            "header_errors": self.header_errors,
            "missing_paths": self.missing_paths[:100],
        }


def catalog_file_info_refresh(*, progress: Progress = NULL_PROGRESS) -> RefreshResult:
    """Read the header of every catalog model's file again and store its ``file`` record.

    Nothing is hashed: ``sha256`` is the model's identity; ``tensor_sha256``
    is kept from the model's record or taken from the hash cache when the
    file's (path, size, mtime) still match it, else left for the next time the
    file is hashed. A model whose file is missing keeps the record it had.
    Each batch of models is its own transaction; ``progress`` advances by the
    batch after it committed, so a cancelled job keeps what it finished.
    Writes the file-info columns of CatalogModel only.
    """
    result = RefreshResult()
    keys = list(CatalogModel.objects.order_by("sha256").values_list("sha256", flat=True))
    progress.start(len(keys))
    for start in range(0, len(keys), REFRESH_BATCH):
        batch = keys[start : start + REFRESH_BATCH]
        rows = list(
            CatalogModel.objects.filter(sha256__in=batch).values_list(
                "sha256", "path", "tensor_sha256", "file_info"
            )
        )
        cache = _hash_cache([path for _, path, _, _ in rows])
        updates = [
            model
            for row in rows
            if (model := _refreshed_model(*row, cache=cache, result=result)) is not None
        ]
        with transaction.atomic():
            CatalogModel.objects.bulk_update(updates, FILE_INFO_COLUMNS)
        progress.advance(len(batch))
    return result


def _hash_cache(paths: list[str]) -> dict[str, tuple[int, int, str, str]]:
    """path -> (size, mtime_ns, sha256, tensor_sha256) of the hash cache, in one query."""
    rows = FileHash.objects.filter(path__in=[path for path in paths if path]).values_list(
        "path", "size_bytes", "mtime_ns", "sha256", "tensor_sha256"
    )
    return {path: tuple(rest) for path, *rest in rows}


def _refreshed_model(
    sha256: str,
    path: str,
    tensor_sha256: str,
    file_info: Any,
    *,
    cache: dict[str, tuple[int, int, str, str]],
    result: RefreshResult,
) -> CatalogModel | None:
    try:
        stat = file_stat(path) if path else None
    except OSError:
        stat = None
    if stat is None:
        result.missing += 1
        result.missing_paths.append(path)
        return None
    record = file_record_of(path)
    if record["header_error"]:
        result.header_errors += 1
    if not tensor_sha256 and cache.get(path, ())[:3] == (stat.size_bytes, stat.mtime_ns, sha256):
        # The cache still describes these bytes: its tensor hash holds.
        tensor_sha256 = cache[path][3]
    values = catalog_file_info_values(record, sha256=sha256, tensor_sha256=tensor_sha256)
    result.refreshed += 1
    return CatalogModel(sha256=sha256, **values)


def catalog_file_info_fill(*, model: CatalogModel, values: dict[str, Any]) -> bool:
    """Give ``model`` the file-info ``values`` of a copy of its file being merged
    into it, if it has no record yet or lacks the tensor hash the copy brings.

    The copy has the same bytes, so its header says the same. True when saved.
    """
    if model.file_info and (model.tensor_sha256 or not values.get("tensor_sha256")):
        return False
    for name, value in values.items():
        setattr(model, name, value)
    model.save(update_fields=list(values))
    return True


def catalog_tensor_hash_fill(*, sha256: str, path: str) -> bool:
    """Give catalog model ``sha256`` the tensor hash the hash cache holds for its
    file at ``path`` (same bytes), when the model has none yet.

    For callers that just hashed the file (verification): the hash cache got
    ``tensor_sha256`` from that read. True when the model was updated. Writes
    the model's tensor_sha256, autov3 and its record's hashes.
    """
    tensor_sha256 = (
        FileHash.objects.filter(path=path, sha256=sha256)
        .exclude(tensor_sha256="")
        .values_list("tensor_sha256", flat=True)
        .first()
    )
    if not tensor_sha256:
        return False
    model = CatalogModel.objects.filter(pk=sha256, tensor_sha256="").only("file_info").first()
    if model is None:
        return False
    if model.file_info and "format" in model.file_info:
        values = catalog_file_info_values(
            model.file_info, sha256=sha256, tensor_sha256=tensor_sha256
        )
    else:  # no record read yet: the columns only, refresh_file_info keeps them
        values = {"tensor_sha256": tensor_sha256, "autov3": tensor_sha256[:12]}
    CatalogModel.objects.filter(pk=sha256).update(**values)
    return True
