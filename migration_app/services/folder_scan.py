"""Folder scan: model files under the configured roots become pending models.

The walk itself is in model_walk.py; ``manage.py scan --hash`` hashes the
pending files afterwards (pending_hashing.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, connection, transaction

from catalog.fileinfo.record import record_json
from catalog.types import canonical_type
from config.api import Conflict, InvalidInput, NotConfigured
from config.collector import collector_paused
from config.progress import NULL_PROGRESS, Progress
from migration_app.models import PendingModel
from migration_app.selectors import BATCH, known_paths
from migration_app.services.file_info import (
    file_records_read,
    pending_changed,
    pending_file_info_update,
    pending_rows,
    pending_unchanged_drop,
)
from migration_app.services.model_walk import FoundFile, model_files_walk
from migration_app.services.relink import found_files_relink
from migration_app.services.sidecars import scan_sidecar_records

ROOTS_HELP = (
    "No model roots are configured. Set MODEL_ROOTS to type=folder pairs separated by ';' "
    "(for example checkpoints=/models/checkpoints;loras=/models/loras) or COMFYUI_PATH "
    "to a ComfyUI folder, then restart the service."
)


@dataclass
class ScanResult:
    scanned: int = 0
    pending_added: int = 0
    # New files holding a missing model's bytes, made its locations (no pending row).
    relinked: int = 0
    skipped: int = 0
    # Pending files whose size or mtime changed: their header was read again.
    file_info_refreshed: int = 0
    # New files with at least one sidecar or preview beside them (docs/sidecars.md).
    sidecars: int = 0
    pending_ids: list[int] = field(default_factory=list)
    # Configured folders that do not exist or cannot be listed.
    missing_roots: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """The scan report (POST /api/models/scan and the scan job's result)."""
        return {
            "status": "success",
            "scanned": self.scanned,
            "pending_added": self.pending_added,
            "relinked": self.relinked,
            "skipped": self.skipped,
            "file_info_refreshed": self.file_info_refreshed,
            "sidecars": self.sidecars,
            "pending_ids": self.pending_ids,
        }


def scan_roots(*, model_type: str | None = None) -> list[tuple[str, str]]:
    """(type, folder) pairs to walk, deepest folder first.

    Deepest first so that a folder configured for its own type claims its
    files before a parent folder configured for another type reaches them.
    Raises NotConfigured without roots and InvalidInput for an unknown type.
    """
    roots = settings.MODEL_ROOTS
    if not roots:
        raise NotConfigured(ROOTS_HELP, code="roots_not_configured")
    if model_type is not None:
        model_type = _configured_type(model_type, roots)
    pairs = [
        (name, os.path.normpath(os.path.abspath(folder)))
        for name, folders in roots.items()
        if model_type in (None, name)
        for folder in folders
    ]
    return sorted(pairs, key=lambda pair: -pair[1].count(os.sep))


def _configured_type(model_type: str, roots: dict[str, list[str]]) -> str:
    for candidate in (model_type.strip(), canonical_type(model_type)):
        if candidate in roots:
            return candidate
    raise InvalidInput(
        f"Unknown model type {model_type!r}; the configured types are {', '.join(sorted(roots))}.",
        code="unknown_type",
        fields={"type": [f"Not a configured type: {model_type!r}."]},
    )


def folder_scan(*, model_type: str | None = None, progress: Progress = NULL_PROGRESS) -> ScanResult:
    """Walk the model roots (of one type, or all) and stage every new model file.

    A file whose normalised path is already in the catalog or pending is
    skipped; the others become pending models in bulk. No file is hashed,
    except new files whose size matches a missing model's (the relink).
    Raises NotConfigured without roots, InvalidInput for an unknown type and
    Conflict when another scan inserted the same files at the same moment.
    Writes PendingModel rows only.
    """
    result = ScanResult()
    roots = scan_roots(model_type=model_type)
    progress.start(None)
    found: list[FoundFile] = []
    listings: dict[str, list[str]] = {}
    # The walk and the bulk comparison build a tuple per file and make no
    # cycles: the collector waits until the unchanged files' tuples are freed.
    with collector_paused():
        walk = model_files_walk(roots, missing_roots=result.missing_roots, listings=listings)
        for files in walk:
            found.extend(files)
            progress.advance(len(files))
        result.scanned = len(found)
        found = pending_unchanged_drop(found)
    return found_files_stage(found=found, result=result, listings=listings, progress=progress)


def found_files_stage(
    *,
    found: list[FoundFile],
    result: ScanResult | None = None,
    listings: dict[str, list[str]] | None = None,
    progress: Progress = NULL_PROGRESS,
) -> ScanResult:
    """Stage the files among ``found`` that are neither a catalog location nor pending.

    New files holding the bytes of a model with a missing location first
    become its locations (the relink, docs/library-health.md); the others
    become pending models in one transaction. The scan and the folder watcher
    both stage through here. Raises Conflict when another scan inserted the
    same files at the same moment. New files get ``file.sidecars`` from the
    sidecars beside them (found in ``listings``, the folders' names, when the
    caller has them; else each folder is listed once). New files, and pending
    files whose size or mtime changed, have their header read (``file``,
    docs/file-intelligence.md) before the transaction; ``progress`` counts them.
    """
    if result is None:
        result = ScanResult(scanned=len(found))
    if not found:  # a re-scan of unchanged files: no query, no write lock
        result.skipped = result.scanned
        return result
    result.relinked = len(found_files_relink(found))
    # Headers and sidecars are read outside the transaction: reading thousands
    # of files must not hold the database's write lock. A file another scan
    # stages meanwhile makes the insert fail on the unique path (Conflict below).
    # The pending rows are read once, with their size and mtime: they are both
    # known paths and what a changed file is compared with.
    paths = {found_file.path for found_file in found}
    pending = pending_rows(paths)
    known = known_paths(paths, include_pending=False)
    known.update(pending)
    new = [found_file for found_file in found if found_file.path not in known]
    stats = {item.path: (item.size_bytes, item.mtime_ns) for item in found if item.path in pending}
    changed = pending_changed(pending, stats)
    records = file_records_read([item.path for item in new] + list(changed), progress=progress)
    # Changed pending files get their sidecars read again too (they may describe
    # the old bytes: the AutoV1 check drops them then).
    read = [item.path for item in new] + list(changed)
    sidecars = scan_sidecar_records(
        read, listings, {path: records[path].get("hashes") or {} for path in read}
    )
    try:
        with transaction.atomic():
            created = _pending_insert(new, sidecars, records)
            result.file_info_refreshed = pending_file_info_update(changed, stats, records, sidecars)
    except IntegrityError:
        raise Conflict(
            "Another scan staged some of these files at the same moment; scan again.",
            code="scan_conflict",
        ) from None
    result.pending_added = len(created)
    result.skipped = result.scanned - result.pending_added - result.relinked
    result.pending_ids = created
    result.sidecars = sum(1 for item in new if item.path in sidecars)
    return result


# The columns a scan sets per file; every other column gets its model default.
_SCANNED_COLUMNS = (
    "path",
    "name",
    "type",
    "size_bytes",
    "created_at",
    "file_info",
    "mtime_ns",
    "architecture",
    "base_model",
    "kind",
)


def _pending_insert(
    found: list[FoundFile], sidecars: dict[str, dict], records: dict[str, dict]
) -> list[int]:
    """Insert a pending model per file, a batch per INSERT ... RETURNING; the new ids.

    Not bulk_create: preparing 100,000 model instances field by field took
    three quarters of a scan (docs/PERFORMANCE.md). The defaults of the other
    columns are prepared once. PostgreSQL gets the batch as one array per
    column (unnest): its client-side parameter binding made a multi-row
    VALUES of 100,000 rows take 16 s instead of 3 s.
    """
    fields = [field for field in PendingModel._meta.concrete_fields if not field.primary_key]
    template = PendingModel()
    defaults = {
        field.attname: field.get_db_prep_save(field.pre_save(template, add=True), connection)
        for field in fields
    }
    rows = []
    for item in found:
        # The header's record, with the sidecars found beside the file.
        record = records[item.path]
        if item.path in sidecars:
            record = record | {"sidecars": sidecars[item.path]}
        rows.append(
            (
                item.path,
                os.path.basename(item.path),
                item.type,
                item.size_bytes,
                item.mtime_ns // 10**6,
                # JSON text, written once here: Django's JSONField preparation
                # costs twice as much, 100,000 times.
                record_json(record),
                item.mtime_ns,
                record["architecture"][:32],
                record["base_model"][:64],
                record["kind"][:32],
            )
        )
    quote = connection.ops.quote_name
    head = (
        f"INSERT INTO {quote(PendingModel._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) "
    )
    tail = f" RETURNING {quote(PendingModel._meta.pk.column)}"
    source = _unnest_source if connection.vendor == "postgresql" else _values_source
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            sql, params = source(fields, defaults, rows[start : start + BATCH])
            cursor.execute(head + sql + tail, params)
            ids.extend(pk for (pk,) in cursor.fetchall())
    return ids


def _values_source(fields: list, defaults: dict, rows: list[tuple]) -> tuple[str, list]:
    """VALUES (...), (...): one placeholder per column of each row."""
    slots = [
        _SCANNED_COLUMNS.index(f.attname) if f.attname in _SCANNED_COLUMNS else None for f in fields
    ]
    params = [
        row[slot] if slot is not None else defaults[field.attname]
        for row in rows
        for field, slot in zip(fields, slots, strict=True)
    ]
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return "VALUES " + ", ".join([row_sql] * len(rows)), params


def _unnest_source(fields: list, defaults: dict, rows: list[tuple]) -> tuple[str, list]:
    """SELECT ... FROM unnest(one array per scanned column): one parameter per column."""
    by_name = {field.attname: field for field in fields}
    arrays = [f"%s::{by_name[name].db_type(connection)}[]" for name in _SCANNED_COLUMNS]
    select = [
        f"u.{field.attname}" if field.attname in _SCANNED_COLUMNS else "%s" for field in fields
    ]
    params = [defaults[f.attname] for f in fields if f.attname not in _SCANNED_COLUMNS]
    params += [list(column) for column in zip(*rows, strict=True)]
    sql = (
        f"SELECT {', '.join(select)} FROM unnest({', '.join(arrays)}) "
        f"AS u({', '.join(_SCANNED_COLUMNS)})"
    )
    return sql, params
