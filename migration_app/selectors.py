"""Read queries of the staging area, with constant query counts."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce

from catalog.models import CatalogModel, ModelLocation, display_name_for
from config.api import InvalidInput, NotFound, page_slice
from migration_app.models import PendingImage, PendingModel
from tags.models import Tag

# Rows per IN (...) query: under SQLite's bound-parameter cap.
BATCH = 500

# A pending image name as it may appear in a URL: one path segment, no
# separators or control characters. Only ever compared with database values.
_IMAGE_NAME_RE = re.compile(r"^[^/\\\x00-\x1f]{1,260}$")
_WEBP = ".webp"


def known_paths(paths: Iterable[str], *, include_pending: bool = True) -> set[str]:
    """The paths among ``paths`` that a catalog or pending model already has
    (a catalog model only, without ``include_pending``: the scan reads the
    pending rows itself, with their stat).

    Looked up in batches of IN (...), unless that many paths are a good part
    of the table: then reading every path of the table in one query is far
    faster (a re-scan of 100,000 files: 0.1 s instead of 1.5 s).
    """
    wanted = list(paths)
    wanted_set = set(wanted)
    known: set[str] = set()
    # Every location of a catalog model is known: a copy whose conflict was
    # resolved (merge, override, delete) is never staged again. A model's own
    # ``path`` counts only while it has no location (a record from before
    # locations): a missing model keeps its last path, which may hold other
    # bytes by now and must then be staged.
    unlocated = CatalogModel.objects.exclude(
        Exists(ModelLocation.objects.filter(model=OuterRef("pk")))
    )
    sources = [
        (unlocated, CatalogModel),
        (ModelLocation.objects.all(), ModelLocation),
    ]
    if include_pending:
        sources.append((PendingModel.objects.all(), PendingModel))
    for queryset, model in sources:
        if len(wanted) > BATCH and len(wanted) * 4 >= model.objects.count():
            every = queryset.values_list("path", flat=True).iterator(chunk_size=5000)
            known.update(path for path in every if path in wanted_set)
            continue
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            known.update(queryset.filter(path__in=chunk).values_list("path", flat=True))
    return known


def catalog_models_by_sha256(shas: Iterable[str]) -> dict[str, CatalogModel]:
    """The catalog models among ``shas`` (empty strings ignored), by sha256."""
    wanted = list({sha for sha in shas if sha})
    found: dict[str, CatalogModel] = {}
    for start in range(0, len(wanted), BATCH):
        found.update(CatalogModel.objects.in_bulk(wanted[start : start + BATCH]))
    return found


def pending_model_list(
    *, limit: int | None = None, offset: int | None = None
) -> tuple[list[dict], int | None]:
    """Simple records of pending models, oldest first, in two queries (three for a page).

    With ``limit`` or ``offset`` only that page is read, and the total of
    every pending model is returned with it; otherwise the total is None.
    """
    first_image = PendingImage.objects.filter(pending_model=OuterRef("pk")).order_by(
        "position", "id"
    )
    queryset, total = page_slice(PendingModel.objects.order_by("id"), limit, offset)
    rows = list(
        queryset.annotate(
            image=Coalesce(Subquery(first_image.values("file_name")[:1]), Value(""))
        ).values("id", "name", "path", "type", "image", "architecture", "base_model", "kind")
    )
    # A page is a run of consecutive ids: its tags are those of that id range.
    tags = _tags_by_pending(rows[0]["id"], rows[-1]["id"]) if rows else {}
    for row in rows:
        path = row.pop("path")
        row["name"] = row["name"] or display_name_for(path)
        row["tags"] = tags.get(row["id"], [])
    return rows, total


def _tags_by_pending(first_id: int, last_id: int) -> dict[int, list[dict]]:
    through = PendingModel.tags.through
    links = (
        through.objects.filter(pendingmodel_id__gte=first_id, pendingmodel_id__lte=last_id)
        .order_by("tag__name", "tag_id")
        .values_list("pendingmodel_id", "tag_id", "tag__name")
    )
    grouped: dict[int, list[dict]] = defaultdict(list)
    for pending_id, tag_id, tag_name in links.iterator(chunk_size=5000):
        grouped[pending_id].append({"id": tag_id, "name": tag_name})
    return grouped


def pending_model_get(*, pending_id: int) -> PendingModel:
    """One pending model with its tags and images prefetched, or NotFound."""
    pending = (
        PendingModel.objects.filter(pk=pending_id)
        .prefetch_related(
            Prefetch("tags", queryset=Tag.objects.order_by("name", "id")),
            Prefetch("images", queryset=PendingImage.objects.order_by("position", "id")),
        )
        .first()
    )
    if pending is None:
        raise NotFound(f"No pending model has id {pending_id}.", code="pending_not_found")
    return pending


def pending_image_find(*, name: str) -> PendingImage:
    """The pending image a URL name addresses.

    An all-digit name is a pending model id: its first image. Otherwise the
    name is a file name, with or without its own extension, with ``.webp``
    appended or not: x.png, x.png.webp and x.webp all find x.png. Raises
    InvalidInput for a name no pending image can have, NotFound when absent.
    """
    if not _IMAGE_NAME_RE.match(name) or name in (".", ".."):
        raise InvalidInput(
            "A pending image name is one file name, without separators.",
            code="invalid_image_name",
        )
    if name.isdigit():
        image = (
            PendingImage.objects.filter(pending_model_id=int(name))
            .order_by("position", "id")
            .first()
        )
    else:
        image = _image_by_file_name(name)
    if image is None:
        raise NotFound(f"No pending image is named {name}.", code="image_not_found")
    return image


def _image_by_file_name(name: str) -> PendingImage | None:
    base = name[: -len(_WEBP)] if name.lower().endswith(_WEBP) and len(name) > 5 else name
    candidates = PendingImage.objects.filter(
        Q(file_name=name) | Q(file_name=base) | Q(file_name__startswith=f"{base}.")
    ).order_by("id")
    by_preference: dict[int, PendingImage] = {}
    for image in candidates:
        rank = _name_rank(image.file_name, name, base)
        if rank is not None and rank not in by_preference:
            by_preference[rank] = image
    return by_preference[min(by_preference)] if by_preference else None


def _name_rank(file_name: str, name: str, base: str) -> int | None:
    """0 for the exact name, 1 without .webp, 2 for base + one extension."""
    if file_name == name:
        return 0
    if file_name == base:
        return 1
    # startswith is case-insensitive on SQLite; compare exactly here.
    suffix = file_name[len(base) + 1 :]
    if file_name.startswith(f"{base}.") and suffix and "." not in suffix:
        return 2
    return None
