"""The file-intelligence part of staging: headers read at scan time and carried at promotion.

A scan reads the header of every new file (never its tensor data) and stores
the ``file`` record on the pending row. A re-scan reads a header again only
for a pending file whose size or modification time changed (or was never
recorded); unchanged files, and files already in the catalog, are not read.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
from collections.abc import Iterable, Sequence
from itertools import filterfalse
from typing import Any, TypeVar

import orjson
from django.conf import settings
from django.db import connection, transaction

from catalog.file_info import catalog_file_info_values
from catalog.fileinfo.record import embedded_thumbnail, file_record_of, summary_columns
from catalog.hashing import FileStat
from catalog.models import CatalogModel
from config.api import ServiceError
from config.collector import collector_paused
from config.progress import NULL_PROGRESS, Progress
from migration_app.models import PendingModel

logger = logging.getLogger(__name__)

# Rows per query when comparing a scan with the pending table.
BATCH = 500
# kohya writes "LoRA@<timestamp>" (and the like) as modelspec.title when the
# user gave none: a worse name than the file's, so never used as one.
_GENERATED_TITLE = re.compile(r"^(?:LoRA|TextualInversion|Checkpoint)@[0-9.]+$")
_DATA_URI = re.compile(r"^data:image/([a-z0-9.+-]+);base64,", re.IGNORECASE)


def file_records_read(
    paths: Iterable[str], *, progress: Progress = NULL_PROGRESS
) -> dict[str, dict[str, Any]]:
    """path -> ``file`` record, reading each file's header once (never raises for a file)."""
    paths = list(paths)
    records: dict[str, dict[str, Any]] = {}
    if not paths:
        return records
    progress.start(len(paths))
    for path in paths:
        records[path] = file_record_of(path)
        progress.advance()
    return records


def pending_columns(record: dict[str, Any]) -> dict[str, Any]:
    """The pending row's file-info columns for a record."""
    columns = summary_columns(record)
    return {
        "file_info": record,
        "architecture": columns["architecture"],
        "base_model": columns["base_model"],
        "kind": columns["kind"],
    }


def pending_rows(paths: Iterable[str]) -> dict[str, tuple[int, int, int]]:
    """path -> (id, size, mtime_ns) of the pending rows among ``paths``.

    One pass over the pending table on a raw cursor when the paths are a good
    part of it (a re-scan: no model instance, no per-row ORM work), else
    lookups in batches.
    """
    wanted = paths if isinstance(paths, (set, dict)) else set(paths)
    if not wanted:
        return {}
    rows: Iterable[tuple]
    if len(wanted) > BATCH and len(wanted) * 4 >= PendingModel.objects.count():
        table = connection.ops.quote_name(PendingModel._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT path, id, size_bytes, mtime_ns FROM {table}")
            rows = cursor.fetchall()
    else:
        listed = list(wanted)
        rows = [
            row
            for start in range(0, len(listed), BATCH)
            for row in PendingModel.objects.filter(
                path__in=listed[start : start + BATCH]
            ).values_list("path", "pk", "size_bytes", "mtime_ns")
        ]
    return {path: (pk, size, mtime) for path, pk, size, mtime in rows if path in wanted}


Found = TypeVar("Found", bound=tuple)


def pending_unchanged_drop(found: Sequence[Found]) -> list[Found]:
    """``found`` (FoundFile tuples: path, type, size, mtime_ns) without the files
    whose pending row records them as they are.

    The re-scan's shortcut: when ``found`` is a good part of the pending
    table, the table's rows are read in one query as the same tuples and
    compared with the walk's as a set, in C; nothing per unchanged file is
    done in Python. A smaller ``found`` is returned as it is (the per-path
    lookups that follow are cheaper than reading the table). A file whose row
    differs only in type stays in ``found``; the lookups skip it.
    """
    if len(found) <= BATCH or len(found) * 4 < PendingModel.objects.count():
        return list(found)
    with collector_paused():
        stored = _pending_stats()
        if stored.issuperset(found):
            return []
        return list(filterfalse(stored.__contains__, found))


def _pending_stats() -> set[tuple[str, str, int, int]]:
    """(path, type, size, mtime_ns) of every pending row with a recorded mtime.

    mtime 0 was never recorded, so such a file is never unchanged (its header
    is read again).
    """
    table = connection.ops.quote_name(PendingModel._meta.db_table)
    where = "WHERE mtime_ns <> 0"
    with connection.cursor() as cursor:
        if connection.vendor != "sqlite":
            cursor.execute(f"SELECT path, type, size_bytes, mtime_ns FROM {table} {where}")
            return set(cursor.fetchall())
        # SQLite's driver spends about 1 µs on each row it hands over, a third
        # of a 100,000-file comparison: one row of four JSON arrays, parsed in
        # C, costs less than half (docs/PERFORMANCE.md). The four aggregates
        # see the rows in the same order.
        cursor.execute(
            "SELECT json_group_array(path), json_group_array(type), "
            f"json_group_array(size_bytes), json_group_array(mtime_ns) FROM {table} {where}"
        )
        return set(zip(*map(orjson.loads, cursor.fetchone()), strict=True))


def pending_changed(
    pending: dict[str, tuple[int, int, int]], stats: dict[str, tuple[int, int]]
) -> dict[str, tuple[int, int, int]]:
    """The pending rows whose file changed: size or mtime differs from ``stats``
    (path -> (size, mtime_ns)), or the mtime was never recorded (0)."""
    return {
        path: row
        for path, row in pending.items()
        if path in stats and (row[2] == 0 or stats[path] != (row[1], row[2]))
    }


def pending_file_info_update(
    changed: dict[str, tuple[int, int, int]],
    stats: dict[str, tuple[int, int]],
    records: dict[str, dict[str, Any]],
    sidecars: dict[str, dict[str, Any]] | None = None,
) -> int:
    """Store the re-read records of changed pending files, with their new size and mtime.

    A file whose recorded mtime was known and differs has new bytes: its
    recorded sha256 no longer holds and is cleared (promotion hashes again).
    A row staged before mtimes were recorded (mtime 0, e.g. from the legacy
    database) keeps its sha256. ``sidecars``: the files' sidecars read again
    (a path missing from it has none now); without it, the record keeps the
    ``sidecars`` it had.
    """
    updated = 0
    with transaction.atomic():
        for path, (pk, _, old_mtime) in changed.items():
            size, mtime_ns = stats[path]
            pending = PendingModel.objects.filter(pk=pk).only("file_info").first()
            if pending is None:
                continue
            record = dict(records[path])
            if sidecars is not None:
                if path in sidecars:
                    record["sidecars"] = sidecars[path]
            elif isinstance(pending.file_info, dict) and "sidecars" in pending.file_info:
                record["sidecars"] = pending.file_info["sidecars"]
            values = pending_columns(record) | {"size_bytes": size, "mtime_ns": mtime_ns}
            if old_mtime:
                values["sha256"] = ""
            PendingModel.objects.filter(pk=pk).update(**values)
            updated += 1
    return updated


def promotion_file_values(
    pending: PendingModel, stat: FileStat, *, sha256: str, tensor_sha256: str
) -> dict[str, Any]:
    """The catalog file-info columns for a pending model being promoted.

    The header is read again unless the pending record describes the same
    file (same size and mtime as at the scan); the hashes come from the
    promotion's read.
    """
    record = pending.file_info if isinstance(pending.file_info, dict) else {}
    same_file = pending.mtime_ns == stat.mtime_ns and pending.size_bytes == stat.size_bytes
    if not (same_file and "format" in record):
        fresh = file_record_of(pending.path)
        if "sidecars" in record:
            fresh["sidecars"] = record["sidecars"]
        record = fresh
    return catalog_file_info_values(record, sha256=sha256, tensor_sha256=tensor_sha256)


def promoted_name(pending: PendingModel, record: dict[str, Any]) -> str:
    """The name a promoted model gets: the modelspec title when the pending name
    is still the bare file name (nobody chose one), else the pending name."""
    title = " ".join(str((record.get("modelspec") or {}).get("title", "")).split())[:512]
    bare = not pending.name or pending.name == os.path.basename(pending.path)
    if bare and title and not _GENERATED_TITLE.match(title):
        return title
    return pending.name


def embedded_thumbnail_add(*, model: CatalogModel, path: str, uri: str | None = None) -> bool:
    """Make the file's embedded thumbnail (``modelspec.thumbnail``) sample image 0 of a
    model that has no images, through the checks and renditions of an upload.

    True when an image was added. A thumbnail that is not a picture, too large
    (MAX_UPLOAD_MB) or not base64 is skipped with a log line; never raises
    for it. Writes a SampleImage and its files. ``uri``: the thumbnail read
    ahead of the transaction ("" for none; None: read the header now).
    """
    from imaging.services import sample_image_add  # imaging depends on catalog, not on us

    if uri is None:
        uri = embedded_thumbnail(path)
    content, extension = _decoded(uri)
    if content is None or model.images.exists():
        return False
    try:
        sample_image_add(model=model, content=content, file_name=f"thumbnail.{extension}")
    except ServiceError as exc:
        logger.warning("The embedded thumbnail of %s was not added: %s", path, exc.message)
        return False
    return True


def _decoded(uri: str) -> tuple[bytes | None, str]:
    match = _DATA_URI.match(uri)
    if not match:
        return None, ""
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    encoded = uri[match.end() :]
    if len(encoded) * 3 // 4 > limit:
        logger.warning("An embedded thumbnail is over MAX_UPLOAD_MB; not added.")
        return None, ""
    try:
        content = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return None, ""
    return content, re.sub(r"[^a-z0-9]", "", match.group(1).lower())[:8] or "img"
