"""Copying a staged record's fields onto a catalog model: fill, or override."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from catalog.models import CatalogModel
from tags.models import Tag

# The fields a legacy row or a pending model carries into the catalog.
RECORD_FIELDS = (
    "name",
    "type",
    "path",
    "size_bytes",
    "created_at",
    "description",
    "community_links",
    "prompt_positive",
    "prompt_negative",
)


def record_values(source: Any) -> dict[str, Any]:
    """The catalog fields of a legacy row or a pending model."""
    return {name: getattr(source, name) for name in RECORD_FIELDS}


def catalog_fields_apply(
    *, model: CatalogModel, values: dict[str, Any], override: bool = False
) -> list[str]:
    """Copy ``values`` onto ``model`` and save; returns the names of changed fields.

    By default only empty fields ("" or 0) are filled. With ``override`` every
    field the values hold a non-empty value for is replaced: an empty staged
    value never blanks a field the catalog already has.
    """
    changed = []
    for name, value in values.items():
        current = getattr(model, name)
        if value and value != current and (override or not current):
            setattr(model, name, value)
            changed.append(name)
    if changed:
        model.save(update_fields=changed)
    return changed


def catalog_tags_add(*, model: CatalogModel, tags: Iterable[Tag]) -> bool:
    """Add the tags ``model`` does not have yet; True when any was added."""
    tags = list(tags)
    if not tags:  # most promoted files have none: spare the query
        return False
    present = set(model.tags.values_list("pk", flat=True))
    missing = [tag for tag in tags if tag.pk not in present]
    if missing:
        model.tags.add(*missing)
    return bool(missing)
