"""Writing the catalog archive (manage.py export_catalog)."""

from __future__ import annotations

import contextlib
import json
import os
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

from backup.archive import FORMAT, MANIFEST, VERSION, Table, encode_row, file_names, tables
from config.api import InvalidInput
from config.progress import NULL_PROGRESS, Progress
from imaging.models import RenditionedImage

_COPY_BUFFER = 1024 * 1024


@dataclass
class ExportReport:
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    # Files a row names but storage lacks (deleted meanwhile, or lost): left out.
    missing_files: list[str] = field(default_factory=list)


def catalog_export(
    *, path: str | Path, overwrite: bool = False, progress: Progress = NULL_PROGRESS
) -> ExportReport:
    """Write the whole catalog into the zip archive ``path`` (format in backup/archive.py).

    Reads one consistent snapshot of the database. Writes ``path`` through a
    temporary file beside it, moved into place at the end, so a failed export
    leaves no partial archive. Raises InvalidInput when ``path`` exists and
    ``overwrite`` is false, or when its folder does not exist.
    """
    target = Path(path)
    if target.exists() and not overwrite:
        raise InvalidInput(
            f"{target} already exists; choose another name, or replace it (--force).",
            code="archive_exists",
        )
    if not target.parent.is_dir():
        raise InvalidInput(f"The folder {target.parent} does not exist.")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    report = ExportReport()
    try:
        with read_snapshot(), zipfile.ZipFile(temporary, "w", allowZip64=True) as archive:
            all_tables = tables()
            counts = {t.label: t.model._base_manager.count() for t in all_tables}
            images = sum(counts[t.label] for t in all_tables if t.has_files)
            progress.start(sum(counts.values()) + images * 4)
            for table in all_tables:
                report.rows[table.label] = _write_table(archive, table, report, progress)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created_at": int(time.time() * 1000),
                "rows": report.rows,
                "files": report.files,
                "columns": {t.label: t.columns for t in all_tables},
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return report


def _write_table(
    archive: zipfile.ZipFile, table: Table, report: ExportReport, progress: Progress
) -> int:
    count = 0
    rows = table.model._base_manager.order_by("pk").values(*table.columns)
    with archive.open(table.entry, "w", force_zip64=True) as raw:
        buffer: list[str] = []
        for row in rows.iterator(chunk_size=2000):
            buffer.append(encode_row(row))
            count += 1
            if len(buffer) == 1000:
                raw.write(("\n".join(buffer) + "\n").encode())
                buffer = []
            progress.advance()
        if buffer:
            raw.write(("\n".join(buffer) + "\n").encode())
    if table.has_files:
        # A second pass over the same snapshot: a zip takes one entry at a time.
        for row in rows.values("uid", "original").iterator(chunk_size=2000):
            for name in file_names(row, table.model):
                _write_file(archive, name, report)
                progress.advance()
    return count


def _write_file(archive: zipfile.ZipFile, name: str, report: ExportReport) -> None:
    try:
        source = _storage().open(name, "rb")
    except (FileNotFoundError, OSError):
        report.missing_files.append(name)
        return
    # Stored, not deflated: WebP, PNG and JPEG are compressed already.
    info = zipfile.ZipInfo(f"files/{name}", date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with source, archive.open(info, "w", force_zip64=True) as target:
        while chunk := source.read(_COPY_BUFFER):
            target.write(chunk)
            report.bytes += len(chunk)
    report.files += 1


def _storage():
    return RenditionedImage._meta.get_field("original").storage


@contextlib.contextmanager
def read_snapshot() -> Iterator[None]:
    """Every query inside sees the database as it was at the first one.

    PostgreSQL: a REPEATABLE READ, READ ONLY transaction. SQLite: a deferred
    read transaction (the settings' IMMEDIATE mode would take the write lock
    and hold every writer for the whole export); in WAL mode it reads one
    snapshot while others keep writing.
    """
    if connection.vendor == "postgresql":
        outermost = not connection.in_atomic_block
        with transaction.atomic():
            if outermost:  # inside a caller's transaction, its snapshot rules
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
        return
    if connection.vendor == "sqlite" and connection.get_autocommit():
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("COMMIT")
        return
    yield
