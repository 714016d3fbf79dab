"""Read queries of the catalog, shaped so that query counts stay constant."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from catalog.filters import CatalogModelFilter
from catalog.models import CatalogModel, display_name_for
from catalog.types import OTHERS, configured_types
from config.api import InvalidInput, NotFound
from tags.models import Tag

LIST_FIELDS = (
    "sha256",
    "name",
    "type",
    "path",
    "size_bytes",
    "created_at",
    "architecture",
    "base_model",
    "kind",
    "missing",
    "missing_since",
    "favorite",
    "rating",
    "nsfw",
)


def model_types() -> list[str]:
    """Configured types plus every type present in the catalog, sorted; never 'others'."""
    present = CatalogModel.objects.exclude(type="").values_list("type", flat=True).distinct()
    types = set(configured_types()) | set(present)
    return sorted(name for name in types if name.lower() != OTHERS)


def models_of_type(model_type: str) -> QuerySet[CatalogModel]:
    """Models of one type; 'others' (any case) means empty or unlisted types."""
    if model_type.lower() == OTHERS:
        return CatalogModel.objects.exclude(type__in=model_types())
    return CatalogModel.objects.filter(type=model_type)


def model_list(*, model_type: str, params: Any) -> tuple[list[dict], int | None]:
    """Simple records of one type, filtered by ``params`` (the query string).

    Returns the records and, when ``limit`` or ``offset`` is given, the total
    before slicing. Three queries at most, whatever the number of models.
    """
    queryset = models_filtered(
        params=params,
        queryset=models_of_type(model_type).annotate(images_count=images_count()),
    )
    # sha256 breaks ties, so that limit/offset pages never repeat or skip a model.
    ordering = list(queryset.query.order_by) or ["name"]
    queryset = queryset.order_by(*ordering, "sha256")
    limit, offset = _page_bounds(params)
    total = None
    if limit is not None or offset is not None:
        total = queryset.count()
        start = offset or 0
        end = None if limit is None else start + limit
        queryset = queryset[start:end]
    rows = list(queryset.values(*LIST_FIELDS, "images_count"))
    # A page's sha256s as a list: the subquery would run the filters (a
    # search, say) a second time. A whole list of 100,000 stays a subquery
    # (SQLite caps bound parameters).
    shas = [row["sha256"] for row in rows] if len(rows) <= 1000 else queryset.values("sha256")
    tags_by_model = _tags_by_model(shas) if rows else {}
    for row in rows:
        row["name"] = row["name"] or display_name_for(row["path"])
        row["tags"] = tags_by_model.get(row["sha256"], [])
    return rows, total


def models_filtered(*, params: Any, queryset: QuerySet | None = None) -> QuerySet[CatalogModel]:
    """``queryset`` (default: every catalog model) narrowed by the list's filters in
    ``params`` (``q``, ``tags``, ``favorite``, ... and ``ordering``; not ``type``).

    Raises InvalidInput (code ``invalid_filter``, with ``fields``) for a bad value.
    """
    if queryset is None:
        queryset = CatalogModel.objects.all()
    filterset = CatalogModelFilter(params, queryset=queryset)
    if not filterset.is_valid():
        fields = {key: [str(error) for error in errors] for key, errors in filterset.errors.items()}
        raise InvalidInput(
            f"Invalid filter: {next(iter(fields))}: {next(iter(fields.values()))[0]}",
            code="invalid_filter",
            fields=fields,
        )
    return filterset.qs


def models_selected(*, params: Any) -> QuerySet[CatalogModel]:
    """The models the list's query parameters select, ``type`` optional (all types)."""
    model_type = str(params.get("type") or "").strip()
    queryset = models_of_type(model_type) if model_type else CatalogModel.objects.all()
    return models_filtered(params=params, queryset=queryset)


def _page_bounds(params: Any) -> tuple[int | None, int | None]:
    return _non_negative_int(params, "limit"), _non_negative_int(params, "offset")


def _non_negative_int(params: Any, key: str) -> int | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    # Not str.isdigit(): it accepts digits such as "²" that int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", str(raw)):
        raise InvalidInput(
            f"{key} must be a whole number of 0 or more.",
            code="invalid_filter",
            fields={key: ["Must be a whole number of 0 or more."]},
        )
    return int(raw)


def tags_of_models(shas: list[str]) -> dict[str, list[dict]]:
    """{sha256: [{id, name}, ...]} sorted by name for a batch of models, in one query."""
    return _tags_by_model(shas)


def _tags_by_model(shas: QuerySet | list[str]) -> dict[str, list[dict]]:
    """{sha256: [{id, name}, ...]} for the models a subquery selects, in one query.

    A subquery rather than a list of ids: SQLite caps bound parameters, and
    the list may hold 100,000 models.
    """
    through = CatalogModel.tags.through
    links = (
        through.objects.filter(catalogmodel_id__in=shas)
        .order_by(Lower("tag__name"), "tag_id")
        .values_list("catalogmodel_id", "tag_id", "tag__name")
    )
    grouped: dict[str, list[dict]] = defaultdict(list)
    # One dict per tag, shared by every model that has it: 100,000 models
    # with a few tags each would otherwise allocate one per link.
    tags: dict[int, dict] = {}
    for sha, tag_id, tag_name in links.iterator(chunk_size=5000):
        tag = tags.get(tag_id)
        if tag is None:
            tag = tags[tag_id] = {"id": tag_id, "name": tag_name}
        grouped[sha].append(tag)
    return grouped


def images_count() -> Coalesce:
    """The number of sample images of each model, as a correlated subquery.

    Not ``Count("images")``: that joins the images and groups by every selected
    column, which made the list of 100,000 models several times slower, and
    the grouping was carried into the tags query's subquery too (see
    docs/PERFORMANCE.md). Each model's count is one lookup in the (model, seq)
    index instead.
    """
    # imaging.SampleImage, reached through the reverse relation: catalog never
    # imports imaging.
    images = CatalogModel._meta.get_field("images").related_model
    per_model = (
        images.objects.filter(model=OuterRef("pk"))
        .order_by()
        .values("model")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(per_model), 0)


def model_detail_queryset() -> QuerySet[CatalogModel]:
    return CatalogModel.objects.annotate(images_count=images_count()).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by(Lower("name"), "id"))
    )


def model_get(*, sha256: str) -> CatalogModel:
    """One model with its tags and images_count, or NotFound."""
    model = model_detail_queryset().filter(Q(sha256=sha256)).first()
    if model is None:
        raise NotFound(f"No catalog model has sha256 {sha256}.", code="model_not_found")
    return model


# Query parameters of GET /api/tags that are not catalog filters.
_TAG_LIST_OWN_PARAMS = {"counts", "ordering", "limit", "offset"}


def tags_with_counts(*, params: Any) -> list[dict]:
    """Every tag sorted by name, with ``count``: the catalog models carrying it
    among those the list's filters in ``params`` select (all models without filters).

    Two queries whatever the number of tags and models. Raises InvalidInput
    for a bad filter value.
    """
    through = CatalogModel.tags.through
    links = through.objects.all()
    if any(key not in _TAG_LIST_OWN_PARAMS for key in params):
        links = links.filter(catalogmodel_id__in=models_selected(params=params).values("pk"))
    counts = dict(
        links.order_by().values("tag_id").annotate(n=Count("pk")).values_list("tag_id", "n")
    )
    return [
        {"id": tag_id, "name": name, "count": counts.get(tag_id, 0)}
        for tag_id, name in Tag.objects.order_by(Lower("name"), "id").values_list("id", "name")
    ]
