"""Restoring a catalog archive (manage.py import_catalog) into an empty or a used instance.

Rules (docs/curation.md):

- Nothing is overwritten. A catalog model whose sha256 the target already
  has is skipped whole (record, tags, images, locations), and so is a pending
  model whose path it already has; importing the same archive twice changes
  nothing the second time.
- Tags are matched by name without regard to case; a tag the target lacks is
  created with its id from the archive when that id is free (always, on an
  empty target), else with a new one.
- Rows of tables that are empty in the target keep their ids (pending model
  ids are part of the API); otherwise they get new ones, and the rows that
  point at them follow.
- Image originals and renditions are copied from the archive byte for byte;
  renditions the archive lacks are rendered again.
- One transaction: a damaged archive or a failure half-way leaves the
  database as it was, and the files written so far are removed.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.storage import FileSystemStorage
from django.core.management.color import no_style
from django.db import IntegrityError, connection, models, transaction

from backup.archive import FORMAT, MANIFEST, VERSION, Table, file_names, tables
from catalog.models import CatalogModel
from config.api import InvalidInput
from config.progress import NULL_PROGRESS, Progress
from imaging.files import files_removed_on_rollback, track_written, write_file
from imaging.models import Quality, RenditionedImage
from imaging.services import renditions_write
from migration_app.models import PendingModel
from tags.models import Tag
from tags.services import tag_find

BATCH = 500


class ArchiveError(InvalidInput):
    """The file is not a catalog archive this version can read."""

    code = "invalid_archive"


@dataclass
class ImportReport:
    added: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    tags_created: int = 0
    tags_matched: int = 0
    files: int = 0
    rendered: int = 0
    warnings: list[str] = field(default_factory=list)


def catalog_import(*, path: str | Path, progress: Progress = NULL_PROGRESS) -> ImportReport:
    """Restore the archive at ``path`` (written by catalog_export) into this instance.

    Raises ArchiveError (an InvalidInput) for a file that is not a readable
    archive of a known version; any failure rolls the whole import back and
    removes the image files it wrote. Writes rows of every archived table and
    image files into the media storage.
    """
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ArchiveError(f"{path} does not exist.") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"{path} is not a catalog archive ({error}).") from None
    with archive:
        manifest = _manifest(archive, path)
        report = ImportReport()
        progress.start(sum(manifest["rows"].values()) + manifest.get("files", 0))
        with files_removed_on_rollback(), transaction.atomic():
            _Restore(archive, manifest, report, progress).run()
    return report


def _manifest(archive: zipfile.ZipFile, path: str | Path) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError):
        raise ArchiveError(f"{path} is not a catalog archive (no readable manifest).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not a catalog archive (unknown format).")
    if manifest.get("version") != VERSION:
        raise ArchiveError(
            f"{path} is a version {manifest.get('version')} archive; this service reads "
            f"version {VERSION}."
        )
    if not isinstance(manifest.get("rows"), dict):
        raise ArchiveError(f"{path} has a damaged manifest (no row counts).")
    return manifest


class _Restore:
    def __init__(self, archive, manifest, report: ImportReport, progress: Progress):
        self.archive = archive
        self.manifest = manifest
        self.report = report
        self.progress = progress
        self.tag_ids: dict[int, int] = {}
        # Per owner model: archive pk -> target pk, for the owners restored now.
        self.owners: dict[type[models.Model], dict[Any, Any]] = {}
        self.kept_ids: list[type[models.Model]] = []
        self.to_render: list[RenditionedImage] = []
        self.storage = RenditionedImage._meta.get_field("original").storage
        self.folders: set[Path] = set()

    def run(self) -> None:
        fresh = {t.label: not t.model._base_manager.exists() for t in tables()}
        for table in tables():
            if table.model is Tag:
                self._tags(table)
            elif table.model in (CatalogModel, PendingModel):
                self._owners(table, fresh[table.label])
            elif table.tag_link:
                self._links(table)
            else:
                self._children(table, fresh[table.label])
        for image in self.to_render:
            renditions_write(image=image)
            self.report.rendered += 1
        if connection.vendor == "postgresql" and self.kept_ids:
            with connection.cursor() as cursor:
                for statement in connection.ops.sequence_reset_sql(no_style(), self.kept_ids):
                    cursor.execute(statement)

    # --- reading ------------------------------------------------------------------

    def _rows(self, table: Table) -> Iterator[list[dict[str, Any]]]:
        """The table's rows in batches; an entry the archive lacks is an empty table."""
        try:
            raw = self.archive.open(table.entry)
        except KeyError:
            return
        batch: list[dict[str, Any]] = []
        with raw, io.TextIOWrapper(raw, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError:
                    raise ArchiveError(f"{table.entry} line {number} is not JSON.") from None
                if not isinstance(row, dict):
                    raise ArchiveError(f"{table.entry} line {number} is not an object.")
                batch.append(row)
                if len(batch) == BATCH:
                    yield batch
                    batch = []
        if batch:
            yield batch

    def _instance(self, table: Table, row: dict[str, Any], *, keep_pk: bool) -> models.Model:
        """A model instance from an archive row: unknown columns dropped, absent ones default."""
        instance = table.model()
        for model_field in table.model._meta.concrete_fields:
            if model_field.primary_key and not keep_pk:
                continue
            if model_field.attname in row:
                value = row[model_field.attname]
                if value is not None or model_field.null:
                    value = model_field.to_python(value)
                setattr(instance, model_field.attname, value)
        return instance

    def _insert(self, model: type[models.Model], instances: list[models.Model], keep_pk: bool):
        """INSERT as they are: raw, so auto_now_add dates keep the archive's values and
        no save signal renders images (their renditions are copied)."""
        if not instances:
            return
        fields = [f for f in model._meta.concrete_fields if keep_pk or not f.primary_key]
        returning = None if keep_pk else model._meta.db_returning_fields
        rows = model._base_manager._insert(
            instances, fields=fields, returning_fields=returning, raw=True, using="default"
        )
        if returning and rows:
            for instance, values in zip(instances, rows, strict=True):
                for returned_field, value in zip(returning, values, strict=True):
                    setattr(instance, returned_field.attname, value)

    def _count(self, table: Table, *, added: int = 0, skipped: int = 0, rows: int = 0) -> None:
        self.report.added[table.label] = self.report.added.get(table.label, 0) + added
        self.report.skipped[table.label] = self.report.skipped.get(table.label, 0) + skipped
        self.progress.advance(rows)

    # --- tables -------------------------------------------------------------------

    def _tags(self, table: Table) -> None:
        rows = [row for batch in self._rows(table) for row in batch]
        if not Tag.objects.exists():
            # An empty target keeps every id, in one statement when no two
            # names clash in this database's LOWER (a SQLite archive may hold
            # Ä and ä, which PostgreSQL takes for one tag).
            try:
                with transaction.atomic():
                    instances = [self._instance(table, row, keep_pk=True) for row in rows]
                    self._insert(Tag, instances, keep_pk=True)
                self.tag_ids = {tag.pk: tag.pk for tag in instances}
                self.report.tags_created += len(instances)
                self.kept_ids.append(Tag)
                self._count(table, added=len(rows), rows=len(rows))
                return
            except IntegrityError:
                pass
        for row in rows:
            existing = tag_find(row["name"])
            if existing is not None:
                self.tag_ids[row["id"]] = existing.pk
                self.report.tags_matched += 1
                self._count(table, skipped=1, rows=1)
                continue
            free = not Tag.objects.filter(pk=row["id"]).exists()
            tag = Tag.objects.create(**({"pk": row["id"]} if free else {}), name=row["name"])
            if free:
                self.kept_ids.append(Tag)
            self.tag_ids[row["id"]] = tag.pk
            self.report.tags_created += 1
            self._count(table, added=1, rows=1)

    def _owners(self, table: Table, fresh: bool) -> None:
        """Catalog models by sha256, pending models by path: new ones only."""
        model = table.model
        key = "sha256" if model is CatalogModel else "path"
        restored: dict[Any, Any] = {}
        for batch in self._rows(table):
            keys = [row.get(key) for row in batch]
            present = set(
                model._base_manager.filter(**{f"{key}__in": keys}).values_list(key, flat=True)
            )
            new_rows = [row for row in batch if row.get(key) not in present]
            keep_pk = fresh or model is CatalogModel
            instances = [self._instance(table, row, keep_pk=keep_pk) for row in new_rows]
            self._insert(model, instances, keep_pk=keep_pk)
            for row, instance in zip(new_rows, instances, strict=True):
                restored[row[model._meta.pk.attname]] = instance.pk
            self._count(
                table, added=len(new_rows), skipped=len(batch) - len(new_rows), rows=len(batch)
            )
        self.owners[model] = restored
        if fresh and model is not CatalogModel:
            self.kept_ids.append(model)

    def _links(self, table: Table) -> None:
        owner_field, tag_field = table.tag_link
        restored = self.owners[table.owner]
        for batch in self._rows(table):
            links = [
                table.model(
                    **{
                        owner_field: restored[row[owner_field]],
                        tag_field: self.tag_ids[row[tag_field]],
                    }
                )
                for row in batch
                if row.get(owner_field) in restored and row.get(tag_field) in self.tag_ids
            ]
            # Two archive tags merged into one target tag would link twice.
            unique = {(getattr(x, owner_field), getattr(x, tag_field)): x for x in links}
            table.model._base_manager.bulk_create(unique.values())
            self._count(table, added=len(unique), skipped=len(batch) - len(unique), rows=len(batch))

    def _children(self, table: Table, fresh: bool) -> None:
        """Rows pointing at a catalog or pending model restored now (locations, images, ...)."""
        restored = self.owners[table.owner]
        unique_fields = [
            f.attname
            for f in table.model._meta.concrete_fields
            if f.unique and not f.primary_key and f.attname != "uid"
        ]
        for batch in self._rows(table):
            rows = [row for row in batch if row.get(table.owner_field) in restored]
            if table.has_files:
                # The files of images left out count as done for the progress bar.
                self.progress.advance((len(batch) - len(rows)) * (1 + len(Quality.values)))
            for name in unique_fields:
                taken = set(
                    table.model._base_manager.filter(
                        **{f"{name}__in": [row.get(name) for row in rows]}
                    ).values_list(name, flat=True)
                )
                if taken:
                    self.report.warnings.append(
                        f"{len(taken)} {table.label} row(s) skipped: their {name} is taken."
                    )
                    rows = [row for row in rows if row.get(name) not in taken]
            instances = [self._instance(table, row, keep_pk=fresh) for row in rows]
            taken_uids: set = set()
            if table.has_files:
                uids = [instance.uid for instance in instances]
                taken_uids = set(
                    table.model._base_manager.filter(uid__in=uids).values_list("uid", flat=True)
                )
            for row, instance in zip(rows, instances, strict=True):
                setattr(instance, table.owner_field, restored[row[table.owner_field]])
                if table.has_files:
                    self._image_files(table, row, instance, uid_taken=instance.uid in taken_uids)
            self._insert(table.model, instances, keep_pk=fresh)
            self._count(
                table, added=len(instances), skipped=len(batch) - len(rows), rows=len(batch)
            )
        if fresh:
            self.kept_ids.append(table.model)

    def _image_files(
        self, table: Table, row: dict[str, Any], image: RenditionedImage, *, uid_taken: bool
    ) -> None:
        """Copy an image's original and renditions from the archive under the row's names
        (a new uid, and so new names, when the target already has this uid)."""
        sources = file_names(row, table.model)
        if uid_taken:
            image.uid = uuid.uuid4()
            extension = row["original"].rsplit(".", 1)[-1] if "." in row["original"] else "bin"
            image.original = f"{table.model.storage_prefix}/originals/{image.uid}.{extension}"
        targets = [image.original.name, *image.rendition_names()]
        copied = [
            self._copy(source, target) for source, target in zip(sources, targets, strict=True)
        ]
        if not copied[0]:
            self.report.warnings.append(f"{table.label}: the archive lacks {sources[0]}.")
        elif not all(copied[1:]):
            self.to_render.append(image)

    def _write(self, name: str, data: bytes) -> None:
        """Write a restored file; the rollback block removes it if the import fails.

        On local disk straight under its name, without write_file's temporary
        name and rename (a millisecond per file, 40 % of a restore): no row
        points at the name until the import's transaction commits, so a
        half-written file is never served, and clean_media finds any left by
        a crash. Object storages get write_file (one request per object).
        """
        if not isinstance(self.storage, FileSystemStorage):
            write_file(self.storage, name, data)
            return
        path = Path(self.storage.path(name))
        if path.parent not in self.folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.folders.add(path.parent)
        with open(path, "wb") as handle:
            handle.write(data)
        track_written(self.storage, name)

    def _copy(self, source: str, target: str) -> bool:
        try:
            data = self.archive.read(f"files/{source}")
        except KeyError:
            return False
        self._write(target, data)
        self.report.files += 1
        self.progress.advance()
        return True
