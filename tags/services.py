"""Writes on tags: create-or-resolve by name, and merging."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower

from config.api import InvalidInput
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
    pending models, ...) without this app knowing them. Returns the number of
    source tags removed.
    """
    source_ids = [tag.pk for tag in sources if tag.pk != target.pk]
    if not source_ids:
        return 0
    for relation in Tag._meta.related_objects:
        if not relation.many_to_many:
            continue
        through = relation.through
        owner_field = f"{relation.field.m2m_field_name()}_id"
        tag_field = f"{relation.field.m2m_reverse_field_name()}_id"
        already = set(
            through.objects.filter(**{tag_field: target.pk}).values_list(owner_field, flat=True)
        )
        moved = (
            through.objects.filter(**{f"{tag_field}__in": source_ids})
            .values_list(owner_field, flat=True)
            .distinct()
        )
        through.objects.bulk_create(
            [
                through(**{owner_field: owner, tag_field: target.pk})
                for owner in set(moved) - already
            ]
        )
        through.objects.filter(**{f"{tag_field}__in": source_ids}).delete()
    Tag.objects.filter(pk__in=source_ids).delete()
    return len(source_ids)
