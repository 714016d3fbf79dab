"""Backfill: apply the sidecars beside every catalog model's locations (``import_sidecars``).

For catalogs built before sidecars were read, or after another tool wrote
new ones. The fill-empty rule of ``sidecars_apply`` makes it idempotent: a
second run changes nothing.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch

from catalog.fileinfo.sidecars import (
    Companions,
    companions_group,
    sidecar_readings,
    sidecars_merge,
)
from catalog.models import CatalogModel, ModelLocation
from config.progress import NULL_PROGRESS, Progress
from imaging.services import files_removed_on_rollback
from migration_app.services.sidecars import model_hashes, sidecars_apply, sidecars_plan

# Catalog models read per query, and per transaction of the ones that change.
BATCH = 500
CHUNK = 50

# Reasons a model was left as it was, as the report counts them.
NO_SIDECARS = "no_sidecars"
FILE_MISSING = "file_missing"
OTHER_BYTES = "describes_other_bytes"
NOTHING_TO_FILL = "nothing_to_fill"


@dataclass
class SidecarImport:
    checked: int = 0
    applied: int = 0
    fields_filled: int = 0
    images_added: int = 0
    skipped: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """The report of POST /api/library/import_sidecars (and of the job)."""
        return {
            "status": "success",
            "checked": self.checked,
            "applied": self.applied,
            "fields_filled": self.fields_filled,
            "images_added": self.images_added,
            "skipped": dict(sorted(self.skipped.items())),
        }


def catalog_sidecars_import(*, progress: Progress = NULL_PROGRESS) -> SidecarImport:
    """Apply the sidecars of every location of every catalog model (fill-empty).

    The sidecars of all locations of a model are merged as one (the primary
    location first within each source) and checked against the model's
    hashes. A model whose files are all missing, or without sidecars, is
    skipped and counted by reason. Sidecars are read outside any
    transaction; the models of a chunk that have something to fill then
    change in one transaction, each under a lock of its row re-read there,
    and ``progress`` advances after it committed. The number of queries per
    model does not depend on the catalog's size. Never writes to a sidecar.
    """
    report = SidecarImport()
    progress.start(CatalogModel.objects.count())
    folders = _Folders()
    last = None
    while True:
        batch = list(_batch(last))
        if not batch:
            break
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            work = [item for item in (_prepare(model, report, folders) for model in chunk) if item]
            if work:
                with files_removed_on_rollback(), transaction.atomic():
                    for model, options in work:
                        _apply(model, options, report)
            report.checked += len(chunk)
            progress.advance(len(chunk))
        last = batch[-1].sha256
    return report


def _batch(after: str | None):
    present = ModelLocation.objects.filter(missing=False).order_by("id")
    models = (
        CatalogModel.objects.order_by("sha256")
        .annotate(
            images_total=Count("images", distinct=True),
            has_tags=Exists(CatalogModel.tags.through.objects.filter(catalogmodel=OuterRef("pk"))),
        )
        .prefetch_related(Prefetch("locations", queryset=present, to_attr="present_locations"))
    )
    if after is not None:
        models = models.filter(sha256__gt=after)
    return models[:BATCH]


class _Folders:
    """Each model folder listed and grouped once per run, whatever its size.

    Grouping a folder's names for one model at a time would read a folder of
    5,000 LoRAs 5,000 times; this groups it once for every catalog file in it.
    """

    def __init__(self) -> None:
        self.models: dict[str, list[str]] = {}
        paths = CatalogModel.objects.exclude(path="").values_list("path", flat=True)
        located = ModelLocation.objects.filter(missing=False).values_list("path", flat=True)
        for path in (*paths.iterator(), *located.iterator()):
            folder, name = os.path.split(path)
            self.models.setdefault(folder, []).append(name)
        self.grouped: dict[str, dict[str, Companions]] = {}

    def companions(self, path: str) -> Companions:
        folder, name = os.path.split(path)
        grouped = self.grouped.get(folder)
        if grouped is None or name not in self.models.get(folder, ()):
            try:
                names = sorted(os.listdir(folder or "."))
            except OSError:
                names = []
            models = self.models.setdefault(folder, [])
            if name not in models:  # added since the run began
                models.append(name)
            grouped = self.grouped[folder] = companions_group(names, models)
        return grouped.get(name) or Companions()


def _prepare(
    model: CatalogModel, report: SidecarImport, folders: _Folders
) -> tuple[CatalogModel, dict[str, Any]] | None:
    """Read a model's sidecars; None (counted as skipped) when it has nothing to fill."""
    paths = [location.path for location in model.present_locations]
    if model.path and model.path not in paths:
        paths.insert(0, model.path)
    paths = [path for path in paths if os.path.isfile(path)]
    if not paths:
        report.skipped[FILE_MISSING] += 1
        return None
    readings, previews = [], []
    for path in paths:
        found, pictures = sidecar_readings(path, companions=folders.companions(path))
        readings += found
        previews += [picture for picture in pictures if picture not in previews]
    if not readings and not previews:
        report.skipped[NO_SIDECARS] += 1
        return None
    sidecars = sidecars_merge(
        readings, previews=previews, hashes=model_hashes(model, model.file_info, cached=False)
    )
    options = {
        "sidecars": sidecars,
        "bare_names": {os.path.basename(path) for path in paths},
        "new_model": False,
        "images_count": model.images_total,
        "has_tags": model.has_tags,
    }
    # Most models of a second run have nothing to fill: found without a lock,
    # a transaction or a query.
    if not sidecars_plan(model=model, **options):
        other = not sidecars.sources and any("other bytes" in w for w in sidecars.warnings)
        report.skipped[OTHER_BYTES if other else NOTHING_TO_FILL] += 1
        return None
    return model, options


def _apply(model: CatalogModel, options: dict[str, Any], report: SidecarImport) -> None:
    """Inside the chunk's transaction: lock and re-read the row, then fill what is still empty."""
    locked = CatalogModel.objects.select_for_update().only(*_APPLIED_COLUMNS).get(pk=model.pk)
    applied = sidecars_apply(model=locked, **options)
    if applied.fields or applied.images_added:
        report.applied += 1
        report.fields_filled += len(applied.fields)
        report.images_added += applied.images_added
    elif applied.all_other_bytes:
        report.skipped[OTHER_BYTES] += 1
    else:
        report.skipped[NOTHING_TO_FILL] += 1


# The columns sidecars_apply reads or fills: the re-read under the lock fetches only these.
_APPLIED_COLUMNS = (
    "sha256",
    "name",
    "path",
    "description",
    "community_links",
    "nsfw",
    "favorite",
    "base_model",
    "file_info",
)
