"""Bulk edits of catalog models: tags added, removed or set, and fields set, on a selection.

The number of SQL statements depends on the request (how many tags it names),
never on how many models it selects: the selection is copied once into a
temporary table, and every change is one statement over it (UPDATE ...
WHERE sha256 IN, INSERT ... SELECT into the link table, DELETE ... WHERE).
Copying it first also freezes it: setting ``favorite`` on the models chosen
by ``favorite=false`` does not shrink the selection the tag changes see.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.http import QueryDict

from catalog.filters import CatalogModelFilter
from catalog.models import CatalogModel
from catalog.selectors import models_selected
from config.api import InvalidInput
from tags.models import Tag
from tags.services import (
    tag_find,
    tag_name_required,
    tags_by_ids_or_invalid,
    tags_resolve_or_create,
)

MAX_SHA256 = 10_000
SET_FIELDS = ("type", "favorite", "rating", "nsfw")
_SELECTION_TABLE = "catalog_bulk_selection"


@dataclass
class BulkResult:
    matched: int
    changed: int


@dataclass
class BulkChanges:
    """What to do to every selected model (tags already resolved)."""

    add_tags: list[Tag] = field(default_factory=list)
    remove_tags: list[Tag] = field(default_factory=list)
    set_tags: list[Tag] | None = None
    set_fields: dict[str, Any] = field(default_factory=dict)


def filter_keys() -> set[str]:
    """The keys a bulk ``filter`` may hold: the list's filters and ``type``."""
    return {"type", *CatalogModelFilter.base_filters} - {"ordering"}


def selection_by_filter(filters: Mapping[str, Any]) -> QuerySet[CatalogModel]:
    """The models the list's query parameters select, given as a JSON object.

    Values may be strings, numbers, booleans or lists (joined with commas, as
    in a query string). An unknown key is refused rather than ignored: a
    misspelled filter would otherwise select every model.
    """
    unknown = sorted(set(filters) - filter_keys())
    if unknown:
        raise InvalidInput(
            f"Unknown filter: {', '.join(unknown)}. Known: {', '.join(sorted(filter_keys()))}.",
            code="invalid_filter",
            fields={key: ["Unknown filter."] for key in unknown},
        )
    params = QueryDict(mutable=True)
    for key, value in filters.items():
        params[key] = _query_value(key, value)
    return models_selected(params=params)


def _query_value(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, list) and all(
        isinstance(item, int | str) and not isinstance(item, bool) for item in value
    ):
        return ",".join(str(item) for item in value)
    raise InvalidInput(
        f"Filter {key} must be a string, a number, true/false or a list of ids.",
        code="invalid_filter",
        fields={key: ["Must be a string, a number, true/false or a list of ids."]},
    )


def tags_from_refs(refs: Iterable[int | str], *, field: str, create: bool) -> list[Tag]:
    """Tags named by id (an integer) or by name (a string, any case).

    Unknown ids raise InvalidInput naming them; unknown names are created when
    ``create``, else skipped (removing a tag nobody has changes nothing).
    """
    refs = list(refs)
    ids = [ref for ref in refs if isinstance(ref, int)]
    names = [ref for ref in refs if isinstance(ref, str)]
    tags = tags_by_ids_or_invalid(ids, field=field) if ids else []
    if names:
        cleaned = [tag_name_required(name) for name in names]
        if create:
            tags += tags_resolve_or_create(names=cleaned)
        else:
            tags += [tag for tag in (tag_find(name) for name in cleaned) if tag is not None]
    unique: dict[int, Tag] = {}
    for tag in tags:
        unique.setdefault(tag.pk, tag)
    return list(unique.values())


@transaction.atomic
def models_bulk(
    *,
    sha256: list[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    add_tags: Iterable[int | str] = (),
    remove_tags: Iterable[int | str] = (),
    set_tags: Iterable[int | str] | None = None,
    set_fields: Mapping[str, Any] | None = None,
) -> BulkResult:
    """POST /api/models/bulk: resolve the selection and the tags, then apply them.

    One transaction: an unknown sha256 or tag id raises InvalidInput and
    changes nothing (tags created for names in the same request included).
    """
    if (sha256 is None) == (filters is None):
        raise InvalidInput(
            'Give either "sha256" (a list) or "filter" (the list\'s query parameters).',
            code="invalid_selection",
        )
    selection = list(dict.fromkeys(sha256)) if sha256 is not None else selection_by_filter(filters)
    changes = BulkChanges(
        add_tags=tags_from_refs(add_tags, field="add_tags", create=True),
        remove_tags=tags_from_refs(remove_tags, field="remove_tags", create=False),
        set_tags=None
        if set_tags is None
        else tags_from_refs(set_tags, field="set_tags", create=True),
        set_fields=dict(set_fields or {}),
    )
    both = {tag.pk for tag in changes.add_tags} & {tag.pk for tag in changes.remove_tags}
    if both:
        names = ", ".join(tag.name for tag in changes.add_tags if tag.pk in both)
        raise InvalidInput(
            f"A tag cannot be both added and removed: {names}.", code="conflicting_tags"
        )
    return models_bulk_edit(selection=selection, changes=changes)


@transaction.atomic
def models_bulk_edit(
    *, selection: QuerySet[CatalogModel] | list[str], changes: BulkChanges
) -> BulkResult:
    """Apply ``changes`` to every model of ``selection`` in one transaction.

    ``selection`` is a queryset, or a list of sha256 (InvalidInput naming the
    ones no catalog model has). ``matched`` is how many models it holds,
    ``changed`` how many of them this edit changed (a tag they lacked, one
    they lose, a field that differed). About ten statements whatever the
    selection's size. Raises InvalidInput for a ``set`` of unknown fields.
    """
    unknown = sorted(set(changes.set_fields) - set(SET_FIELDS))
    if unknown:
        raise InvalidInput(f"Cannot set: {', '.join(unknown)}.", code="invalid_input")
    connection = connections[router.db_for_write(CatalogModel)]
    try:
        with connection.cursor() as cursor:
            _selection_copy(cursor, connection, selection)
        selected = CatalogModel.objects.filter(
            pk__in=RawSQL(f"SELECT sha256 FROM {_SELECTION_TABLE}", [])
        )
        matched = selected.count()
        changed = selected.filter(_differs(changes)).count() if matched else 0
        if changed:
            _apply(connection, selected, changes)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_SELECTION_TABLE}")
    return BulkResult(matched=matched, changed=changed)


def _selection_copy(cursor, connection, selection: QuerySet[CatalogModel] | list[str]) -> None:
    """Copy the selection's sha256s into the temporary table, in one statement."""
    cursor.execute(f"DROP TABLE IF EXISTS {_SELECTION_TABLE}")
    cursor.execute(f"CREATE TEMPORARY TABLE {_SELECTION_TABLE} (sha256 varchar(64) PRIMARY KEY)")
    if isinstance(selection, list):
        # The whole list as one parameter (SQLite caps the number of parameters).
        if connection.vendor == "postgresql":
            source, param = "SELECT DISTINCT unnest(%s::varchar[])", selection
        else:
            source, param = "SELECT DISTINCT value FROM json_each(%s)", json.dumps(selection)
        cursor.execute(f"INSERT INTO {_SELECTION_TABLE} (sha256) {source}", [param])
        # NOT EXISTS, an anti-join: PostgreSQL runs NOT IN (subquery) as a
        # nested scan when the subquery is large (20 s for 10,000 of 100,000).
        cursor.execute(
            f"SELECT s.sha256 FROM {_SELECTION_TABLE} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {CatalogModel._meta.db_table} c WHERE c.sha256 = s.sha256) "
            "ORDER BY s.sha256 LIMIT 11"
        )
        unknown = [sha for (sha,) in cursor.fetchall()]
        if unknown:
            listed = ", ".join(unknown[:10]) + (" and more" if len(unknown) > 10 else "")
            raise InvalidInput(
                f"Unknown sha256: {listed}.",
                code="unknown_model",
                fields={"sha256": [f"No catalog model has sha256 {sha}." for sha in unknown[:10]]},
            )
        return
    sql, params = selection.order_by().values("pk").query.sql_with_params()
    # DISTINCT: a queryset that joins (an admin filter on tags) may repeat a model.
    cursor.execute(
        f"INSERT INTO {_SELECTION_TABLE} (sha256) SELECT DISTINCT * FROM ({sql}) s", params
    )


def _links() -> QuerySet:
    return CatalogModel.tags.through.objects.filter(catalogmodel_id=OuterRef("pk"))


def _count_of(tag_ids: list[int]) -> Coalesce:
    counted = (
        _links()
        .filter(tag_id__in=tag_ids)
        .order_by()
        .values("catalogmodel_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def _differs(changes: BulkChanges) -> Q:
    """Models this edit would change, before it runs."""
    condition = Q(pk__in=[])
    for name, value in changes.set_fields.items():
        condition |= ~Q(**{name: value})
    if changes.add_tags:
        ids = [tag.pk for tag in changes.add_tags]
        condition |= _count_lt(ids)
    if changes.remove_tags:
        condition |= Q(Exists(_links().filter(tag_id__in=[tag.pk for tag in changes.remove_tags])))
    if changes.set_tags is not None:
        ids = [tag.pk for tag in changes.set_tags]
        condition |= Q(Exists(_links().exclude(tag_id__in=ids)))
        if ids:
            condition |= _count_lt(ids)
    return condition


def _count_lt(ids: list[int]) -> Q:
    """Models carrying fewer than all of ``ids``."""
    return Q(LessThan(_count_of(ids), Value(len(ids))))


def _apply(connection, selected: QuerySet[CatalogModel], changes: BulkChanges) -> None:
    through = CatalogModel.tags.through
    quote = connection.ops.quote_name
    links = quote(through._meta.db_table)
    owner, tag_column = quote("catalogmodel_id"), quote("tag_id")
    in_selection = f"{owner} IN (SELECT sha256 FROM {_SELECTION_TABLE})"
    with connection.cursor() as cursor:
        if changes.set_tags is not None:
            keep = [tag.pk for tag in changes.set_tags]
            marks = ", ".join(["%s"] * len(keep))
            extra = f" AND {tag_column} NOT IN ({marks})" if keep else ""
            cursor.execute(f"DELETE FROM {links} WHERE {in_selection}{extra}", keep)
        if changes.remove_tags:
            gone = [tag.pk for tag in changes.remove_tags]
            marks = ", ".join(["%s"] * len(gone))
            cursor.execute(
                f"DELETE FROM {links} WHERE {in_selection} AND {tag_column} IN ({marks})", gone
            )
        added = [tag.pk for tag in [*changes.add_tags, *(changes.set_tags or [])]]
        if added:
            marks = ", ".join(["%s"] * len(added))
            tags = quote(Tag._meta.db_table)
            # The link table's unique (model, tag) index skips links already
            # there; its WHERE also keeps SQLite from reading ON as a join.
            cursor.execute(
                f"INSERT INTO {links} ({owner}, {tag_column}) "
                f"SELECT s.sha256, t.id FROM {_SELECTION_TABLE} s CROSS JOIN {tags} t "
                f"WHERE t.id IN ({marks}) ON CONFLICT DO NOTHING",
                added,
            )
    if changes.set_fields:
        differs = Q(pk__in=[])
        for name, value in changes.set_fields.items():
            differs |= ~Q(**{name: value})
        selected.filter(differs).update(**changes.set_fields)
