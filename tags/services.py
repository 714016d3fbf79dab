"""Writes on tags: create-or-resolve by name, rename, merge and delete."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connections, router, transaction
from django.db.models import Value
from django.db.models.functions import Lower

from config.api import Conflict, InvalidInput
from tags.models import TAG_NAME_MAX_LENGTH, Tag


def tag_name_clean(name: str) -> str:
    """Trim a tag name; raise InvalidInput if it is too long."""
    cleaned = " ".join(name.split())
    if len(cleaned) > TAG_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"Tag names are at most {TAG_NAME_MAX_LENGTH} characters; "
            f"{cleaned[:20]!r}... has {len(cleaned)}.",
            code="tag_name_too_long",
        )
    return cleaned


def tag_find(name: str) -> Tag | None:
    """The tag whose name equals ``name`` without regard to case, as the database compares."""
    return Tag.objects.alias(lname=Lower("name")).filter(lname=Lower(Value(name))).first()


def tag_resolve_or_create(*, name: str) -> tuple[Tag, bool]:
    """Return the tag named ``name`` (any case), creating it if missing.

    Safe under concurrency: the case-insensitive unique constraint decides which
    of two simultaneous creators wins; the loser reads the winner's row.
    """
    existing = tag_find(name)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return Tag.objects.create(name=name), True
    except IntegrityError:
        winner = tag_find(name)
        if winner is None:  # pragma: no cover - the constraint guarantees a row
            raise
        return winner, False


def tags_resolve_or_create(*, names: Iterable[str]) -> list[Tag]:
    """One tag per name distinct without regard to case, in the order given.

    Blank names are skipped; a name over 64 characters raises InvalidInput
    before anything is created.
    """
    wanted: list[str] = []
    seen: set[str] = set()
    for raw in names:
        name = tag_name_clean(raw)
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            wanted.append(name)
    tags: list[Tag] = []
    for name in wanted:
        tag, _ = tag_resolve_or_create(name=name)
        if all(tag.pk != known.pk for known in tags):
            tags.append(tag)
    return tags


@transaction.atomic
def tags_merge(*, target: Tag, sources: Iterable[Tag]) -> int:
    """Move every use of ``sources`` onto ``target`` and delete the sources.

    Works for every many-to-many relation that points at Tag (catalog models,
    pending models, ...) without this app knowing them: two statements per
    relation (INSERT ... SELECT of the missing links, DELETE of the old ones),
    whatever the number of models carrying the tags. Returns the number of
    source tags removed.
    """
    source_ids = sorted({tag.pk for tag in sources if tag.pk != target.pk})
    if not source_ids:
        return 0
    connection = connections[router.db_for_write(Tag)]
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(source_ids))
    with connection.cursor() as cursor:
        for relation in Tag._meta.related_objects:
            if not relation.many_to_many:
                continue
            through = relation.through._meta
            table = quote(through.db_table)
            owner = quote(through.get_field(relation.field.m2m_field_name()).column)
            tag = quote(through.get_field(relation.field.m2m_reverse_field_name()).column)
            cursor.execute(
                f"INSERT INTO {table} ({owner}, {tag}) "
                f"SELECT DISTINCT l.{owner}, %s FROM {table} l WHERE l.{tag} IN ({marks}) "
                f"AND NOT EXISTS (SELECT 1 FROM {table} k "
                f"WHERE k.{owner} = l.{owner} AND k.{tag} = %s)",
                [target.pk, *source_ids, target.pk],
            )
            cursor.execute(f"DELETE FROM {table} WHERE {tag} IN ({marks})", source_ids)
    Tag.objects.filter(pk__in=source_ids).delete()
    return len(source_ids)


def tag_name_required(name: str) -> str:
    """``name`` cleaned (tag_name_clean); InvalidInput when it is blank."""
    cleaned = tag_name_clean(name)
    if not cleaned:
        raise InvalidInput("A tag name cannot be blank.", code="tag_name_blank")
    return cleaned


@transaction.atomic
def tag_rename(*, tag: Tag, name: str, merge: bool = False) -> Tag:
    """Rename ``tag`` to ``name`` (trimmed, runs of spaces folded); return the tag now named so.

    When another tag already has that name without regard to case, raises
    Conflict, or with ``merge`` moves every use of ``tag`` onto that other
    tag (tags_merge), which then takes the requested spelling. A change of
    case alone is a plain rename. Raises InvalidInput for a blank or long name.
    """
    cleaned = tag_name_required(name)
    other = tag_find(cleaned)
    if other is not None and other.pk != tag.pk:
        if not merge:
            raise Conflict(
                f"The tag “{other.name}” (id {other.pk}) already has this name; "
                'send "merge": true to merge this tag into it.',
                code="tag_exists",
            )
        tags_merge(target=other, sources=[tag])
        tag = other
    if tag.name != cleaned:
        tag.name = cleaned
        try:
            with transaction.atomic():
                tag.save(update_fields=["name"])
        except IntegrityError:
            # Another request created or renamed a tag to this name meanwhile.
            raise Conflict(
                f"Another tag is now named “{cleaned}”; try again.", code="tag_exists"
            ) from None
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete ``tag``: it leaves every catalog and pending model that carried it."""
    tag.delete()


def tags_by_ids_or_invalid(tag_ids: Iterable[int], *, field: str) -> list[Tag]:
    """The tags with these ids, in the order given; InvalidInput naming unknown ids."""
    unique_ids = list(dict.fromkeys(tag_ids))
    storable = [tag_id for tag_id in unique_ids if 0 < tag_id < 2**63]
    found = Tag.objects.in_bulk(storable)
    missing = [tag_id for tag_id in unique_ids if tag_id not in found]
    if missing:
        listed = ", ".join(str(tag_id) for tag_id in missing[:20])
        raise InvalidInput(
            f"Unknown tag id(s): {listed}.",
            code="unknown_tag",
            fields={field: [f"Unknown tag id: {tag_id}." for tag_id in missing[:20]]},
        )
    return [found[tag_id] for tag_id in unique_ids]
