"""Read-only reports of library health: duplicates and stats, each a fixed number of queries."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce

from catalog.locations import signed64
from catalog.models import CatalogModel, ModelLocation, display_name_for
from migration_app.models import PendingModel
from migration_app.selectors import BATCH


def duplicates_report() -> dict[str, Any]:
    """Catalog models whose bytes are on disk more than once, largest waste first.

    A model's copies are its present locations plus the hashed pending files
    holding its bytes. Paths that are one file (hard links, symlinks: same
    device and inode) are listed with ``same_file_as`` and count as one copy;
    only groups of two copies or more are reported. ``reclaimable_bytes`` is
    what deleting all copies but one would free. Two queries whatever the size
    of the catalog (a third when a model's only copies are pending files);
    pending files, and locations never stat'ed yet, are stat'ed for their
    device and inode.
    """
    present = ModelLocation.objects.filter(missing=False)
    several = (
        present.order_by()
        .values("model_id")
        .annotate(copies=Count("id"))
        .filter(copies__gt=1)
        .values("model_id")
    )
    catalog_pending = PendingModel.objects.exclude(sha256="").filter(
        Exists(CatalogModel.objects.filter(pk=OuterRef("sha256")))
    )
    models: dict[str, tuple[str, int]] = {}
    paths: dict[str, list[tuple[str, tuple | None]]] = defaultdict(list)
    # The locations with their model's name and size, joined: one query.
    located = (
        present.filter(Q(model_id__in=several) | Q(model_id__in=catalog_pending.values("sha256")))
        .order_by("model_id", "id")
        .values_list(
            "model_id", "path", "device", "inode", "model__name", "model__path", "model__size_bytes"
        )
    )
    for model_id, path, device, inode, name, model_path, size_bytes in located.iterator(
        chunk_size=5000
    ):
        if model_id not in models:
            models[model_id] = (name or display_name_for(model_path), size_bytes)
        key = (device, inode) if device is not None and inode is not None else _file_key(path)
        paths[model_id].append((path, key))
    for sha256, path in catalog_pending.order_by("id").values_list("sha256", "path"):
        key = _file_key(path)
        if key is not None:  # a pending file that is not on disk wastes nothing
            paths[sha256].append((path, key))
    unknown = [
        sha256 for sha256, listed in paths.items() if sha256 not in models and len(listed) > 1
    ]
    if unknown:  # copies that are all pending: their model has no present location
        for sha256, name, model_path, size_bytes in CatalogModel.objects.filter(
            pk__in=catalog_pending.filter(sha256__in=unknown[:BATCH]).values("sha256")
        ).values_list("sha256", "name", "path", "size_bytes"):
            models[sha256] = (name or display_name_for(model_path), size_bytes)
    groups = [
        group
        for sha256, listed in paths.items()
        if sha256 in models and (group := _group(sha256, *models[sha256], listed)) is not None
    ]
    groups.sort(key=lambda group: (-group["reclaimable_bytes"], group["sha256"]))
    return {
        "groups": groups,
        "total_reclaimable_bytes": sum(group["reclaimable_bytes"] for group in groups),
    }


def _file_key(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return signed64(info.st_dev), signed64(info.st_ino)


def _group(
    sha256: str, name: str, size_bytes: int, listed: list[tuple[str, tuple | None]]
) -> dict[str, Any] | None:
    first_path: dict[tuple, str] = {}
    locations = []
    for path, key in listed:
        same = first_path.get(key) if key is not None else None
        if key is not None and same is None:
            first_path[key] = path
        locations.append({"path": path, "same_file_as": same})
    copies = sum(1 for location in locations if location["same_file_as"] is None)
    if copies < 2:
        return None
    return {
        "sha256": sha256,
        "name": name,
        "size_bytes": size_bytes,
        "copies": copies,
        "reclaimable_bytes": (copies - 1) * size_bytes,
        "locations": locations,
    }


def library_stats() -> dict[str, Any]:
    """Counts and bytes of the catalog by type and by base model, missing and
    pending counts. Five queries whatever the size of the catalog."""
    missing = Count("pk", filter=Q(missing=True))
    size = Coalesce(Sum("size_bytes"), 0)
    totals = CatalogModel.objects.aggregate(models=Count("pk"), bytes=size, missing=missing)
    locations = ModelLocation.objects.aggregate(locations=Count("pk"), missing_locations=missing)
    pending = PendingModel.objects.aggregate(
        pending=Count("pk"),
        pending_hashed=Count("pk", filter=~Q(sha256="")),
        pending_bytes=size,
    )

    def grouped(column: str) -> list[dict[str, Any]]:
        rows = (
            CatalogModel.objects.order_by(column)
            .values(column)
            .annotate(count=Count("pk"), bytes=size, missing=missing)
        )
        return [dict(row) for row in rows]

    return {
        **totals,
        **locations,
        "by_type": grouped("type"),
        "by_base_model": grouped("base_model"),
        **pending,
    }
