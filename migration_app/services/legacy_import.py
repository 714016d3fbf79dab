"""Stage 1: import the legacy SQLite database into the catalog and the staging area."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage
from django.db import transaction

from catalog.locations import location_remember
from catalog.models import CatalogModel
from config.api import InvalidInput, UnsupportedMedia
from config.checkpoints import checkpoint
from config.paths import ConfinedFileSystemStorage, path_is_allowed
from config.progress import NULL_PROGRESS, Progress
from imaging.services import files_removed_on_rollback, sample_image_add
from migration_app.legacy_schema import LegacyData, LegacyModel, legacy_open, legacy_read
from migration_app.models import PendingModel
from migration_app.selectors import catalog_models_by_sha256, known_paths
from migration_app.services.pending import pending_image_add
from migration_app.services.records import catalog_fields_apply, catalog_tags_add, record_values
from tags.models import Tag
from tags.services import tag_name_clean, tag_resolve_or_create

logger = logging.getLogger(__name__)


@dataclass
class LegacyImportReport:
    migrated: int = 0  # hashed rows that created a catalog model
    merged: int = 0  # hashed rows that changed an existing catalog model
    pending: int = 0  # unhashed rows staged as pending models
    skipped: int = 0  # rows that had nothing left to import
    tags: int = 0  # tags created
    errors: int = 0  # rows and tags that could not be imported
    images_processed: int = 0  # legacy images stored
    images_missing: int = 0
    images_errors: int = 0  # undecodable or unreadable legacy images

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.images_errors)

    def as_dict(self) -> dict[str, Any]:
        """The API's response body (SPEC.md, Stage 1)."""
        return {
            "status": "failed" if self.failed else "success",
            "db_migration": {
                "migrated": self.migrated,
                "merged": self.merged,
                "pending": self.pending,
                "skipped": self.skipped,
                "tags": self.tags,
                "errors": self.errors,
            },
            "image_migration": {
                "processed": self.images_processed,
                "missing": self.images_missing,
                "errors": self.images_errors,
            },
        }


# Rows written per transaction: short enough that SQLite's write lock is never
# held for long, long enough that commits cost little.
ROWS_PER_TRANSACTION = 50


def _warn(message: str) -> None:
    # Each problem is logged as it is met; the counts alone go into the report.
    logger.warning("Legacy import: %s", message)


class _DryRun(Exception):
    """Raised inside the transaction of a dry run to roll it back."""


def legacy_db_import(
    *,
    db_path: Any,
    images_dir: Any = None,
    dry_run: bool = False,
    allowed_roots: Sequence[Path] = (),
    progress: Progress = NULL_PROGRESS,
) -> LegacyImportReport:
    """Import a legacy database (SPEC.md, Stage 1) and report what happened.

    The file is opened read-only and read completely before anything is
    written. Hashed rows become (or merge into) catalog models with their first
    legacy image; unhashed rows become pending models with their images, unless
    their path is already known. Rows are committed 50 to a transaction, so
    a cancelled or interrupted import keeps whole rows only; a second run
    changes nothing. ``dry_run`` does the work and rolls it back.

    Raises InvalidInput, with nothing written, for a path that is not an
    existing SQLite file with the legacy tables, an images folder that does
    not exist, or (when ``allowed_roots`` is given: LEGACY_IMPORT_ROOTS for the
    API) a path outside those folders. Writes catalog, pending, tag and image rows, and image files
    under ``images/`` and ``pending/`` (removed again if the import fails).
    """
    images = legacy_db_check(db_path=db_path, images_dir=images_dir, allowed_roots=allowed_roots)
    connection = legacy_open(db_path)
    try:
        data = legacy_read(connection, str(db_path))
    finally:
        connection.close()
    importer = _LegacyImport(data, images)
    progress.start(len(data.models))
    if not dry_run:
        importer.run(progress)
        return importer.report
    try:
        with files_removed_on_rollback(), transaction.atomic():
            importer.run(progress)
            raise _DryRun
    except _DryRun:
        pass
    return importer.report


def legacy_db_check(
    *, db_path: Any, images_dir: Any = None, allowed_roots: Sequence[Path] = ()
) -> FileSystemStorage | None:
    """Check the paths of an import before any work; the images folder's storage.

    Raises InvalidInput for a path outside ``allowed_roots``, a database that
    is not a readable legacy SQLite file, or an images folder that does not exist.
    """
    _confine(allowed_roots, legacy_db_path=db_path, legacy_images_dir=images_dir)
    images = _images_storage(images_dir, allowed_roots)
    legacy_open(db_path).close()
    return images


def _confine(allowed_roots: Sequence[Path], **paths: Any) -> None:
    for field_name, path in paths.items():
        if isinstance(path, str) and path and not path_is_allowed(path, allowed_roots):
            raise InvalidInput(
                f"{path} is outside the folders LEGACY_IMPORT_ROOTS allows.",
                code="path_not_allowed",
                fields={field_name: ["Outside LEGACY_IMPORT_ROOTS."]},
            )


def _images_storage(images_dir: Any, allowed_roots: Sequence[Path]) -> FileSystemStorage | None:
    if images_dir is None or images_dir == "":
        return None
    folder = os.path.abspath(os.path.expanduser(images_dir)) if isinstance(images_dir, str) else ""
    if not folder or not os.path.isdir(folder):
        raise InvalidInput(
            f"No folder at {images_dir}; give the legacy images folder or leave it out.",
            code="legacy_images_dir_not_found",
            fields={"legacy_images_dir": ["No such folder."]},
        )
    # Read through a storage rooted at the folder: a file name from the legacy
    # database can never reach outside it, nor a symlink outside allowed_roots.
    return ConfinedFileSystemStorage(location=folder, roots=allowed_roots)


class _LegacyImport:
    def __init__(self, data: LegacyData, images: FileSystemStorage | None):
        self.data = data
        self.images = images
        self.report = LegacyImportReport(errors=len(data.invalid_rows))
        self.tags: dict[int, Tag] = {}
        # Read once up front rather than one query per row; kept up to date
        # as rows are written (the import is the only writer in its transaction).
        self.known_paths: set[str] = set()
        self.catalog: dict[str, CatalogModel] = {}
        for row in data.invalid_rows:
            _warn(f"model row {row.legacy_id} not imported: {row.reason}.")

    def run(self, progress: Progress) -> None:
        """Tags first, then the rows a chunk per transaction, each chunk reported once committed.

        Short transactions keep SQLite's single write lock free for the web
        server and the job worker, and let a cancelled or killed import keep
        what it finished; a re-run skips it (an import is idempotent).
        """
        self.known_paths = known_paths(row.path for row in self.data.models if not row.sha256)
        self.catalog = catalog_models_by_sha256(row.sha256 for row in self.data.models)
        rows = self.data.models
        for start in range(0, max(len(rows), 1), ROWS_PER_TRANSACTION):
            chunk = rows[start : start + ROWS_PER_TRANSACTION]
            with files_removed_on_rollback(), transaction.atomic():
                if start == 0:
                    self._map_tags()  # with the first rows: no tag survives without them
                for row in chunk:
                    self._import_row(row)
            progress.advance(len(chunk))

    def _import_row(self, row: LegacyModel) -> None:
        if not row.metadata_readable:
            _warn(
                f"model row {row.legacy_id}: extra_json is not a JSON object; "
                "imported without metadata."
            )
        if row.sha256:
            self._import_hashed(row)
        else:
            self._import_unhashed(row)
        checkpoint("legacy_import_row")  # crash tests: "legacy_import_row:N"

    def _map_tags(self) -> None:
        """Legacy tag id -> tag, matched by name without regard to case."""
        for legacy_id, raw_name in self.data.tags.items():
            try:
                name = tag_name_clean(raw_name)
            except InvalidInput as exc:
                self.report.errors += 1
                _warn(f"tag {legacy_id} not imported: {exc.message}")
                continue
            if name:
                tag, created = tag_resolve_or_create(name=name)
                self.tags[legacy_id] = tag
                self.report.tags += created

    def _tags_of(self, row: LegacyModel) -> list[Tag]:
        return [self.tags[tag_id] for tag_id in row.tag_ids if tag_id in self.tags]

    def _import_hashed(self, row: LegacyModel) -> None:
        values = record_values(row)
        model = self.catalog.get(row.sha256)
        created = model is None
        if created:
            model = CatalogModel.objects.create(sha256=row.sha256, **values)
            model.tags.add(*self._tags_of(row))
            self.catalog[model.sha256] = model
            changed = False
        else:
            changed = bool(catalog_fields_apply(model=model, values=values))
            changed |= catalog_tags_add(model=model, tags=self._tags_of(row))
        if row.path:
            # Every path the old tool recorded for these bytes is a copy to remember
            # (a missing location when the file is not on this machine).
            location_remember(model=model, path=row.path)
        self.known_paths.add(model.path)
        if row.image_names:
            # Only the first legacy image becomes a sample image (SPEC.md, rule 3).
            changed |= self._stage_image(
                row.image_names[0],
                lambda content, name: sample_image_add(
                    model=model, content=content, file_name=name, dedupe=True
                ),
            )
        if created:
            self.report.migrated += 1
        elif changed:
            self.report.merged += 1
        else:
            self.report.skipped += 1

    def _import_unhashed(self, row: LegacyModel) -> None:
        if row.path in self.known_paths:
            self.report.skipped += 1
            return
        pending = PendingModel.objects.create(**record_values(row))
        pending.tags.add(*self._tags_of(row))
        self.known_paths.add(row.path)
        for image_name in row.image_names:
            self._stage_image(
                image_name,
                lambda content, name: pending_image_add(
                    pending_model=pending, content=content, file_name=name
                ),
            )
        self.report.pending += 1

    def _stage_image(self, name: str | None, add: Callable[[bytes, str], object | None]) -> bool:
        """Read legacy image ``name`` and ``add`` it; True when a new image was stored."""
        content = self._read_image(name)
        if content is None:
            return False
        try:
            added = add(content, name)
        except (UnsupportedMedia, InvalidInput) as exc:
            self.report.images_errors += 1
            _warn(f"image {name} not imported: {exc.message}")
            return False
        if added is None:  # the same picture is already there
            return False
        self.report.images_processed += 1
        return True

    def _read_image(self, name: str | None) -> bytes | None:
        if self.images is None or name is None:
            self.report.images_missing += 1
            return None
        try:
            with self.images.open(name, "rb") as handle:
                return handle.read()
        except (FileNotFoundError, IsADirectoryError, SuspiciousFileOperation):
            self.report.images_missing += 1
            _warn(f"image {name} is not in the legacy images folder.")
        except OSError as exc:
            self.report.images_errors += 1
            _warn(f"image {name} could not be read ({exc.strerror or exc}).")
        return None
