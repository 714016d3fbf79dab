"""Writes on pending models and their staged images."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Exists, Max, OuterRef, QuerySet

from config.prepared import INTEGER_MARK, PreparedQuery
from imaging.services import files_removed_on_rollback, image_decode_check
from migration_app.models import PendingImage, PendingModel


def pending_image_add(
    *, pending_model: PendingModel, content: bytes, file_name: str
) -> PendingImage | None:
    """Stage a picture as the next image of ``pending_model``, under ``file_name``.

    The bytes are decoded first; bytes equal to an image the pending model
    already has are not added again (None is returned). Raises UnsupportedMedia
    or InvalidInput when Pillow cannot decode them. Writes the original under
    ``pending/originals/`` and, through imaging's post-save signal, the three
    renditions under ``pending/renditions/``; both are removed if this fails.
    """
    image_format, width, height = image_decode_check(content=content)
    digest = hashlib.sha256(content).hexdigest()
    with files_removed_on_rollback(), transaction.atomic():
        images = PendingImage.objects.filter(pending_model=pending_model)
        if images.filter(content_sha256=digest).exists():
            return None
        top = images.aggregate(top=Max("position"))["top"]
        image = PendingImage(
            pending_model=pending_model,
            position=0 if top is None else top + 1,
            file_name=pending_image_name(file_name, image_format),
            content_sha256=digest,
            width=width,
            height=height,
        )
        image.original.save(f"original.{image_format.lower()}", ContentFile(content), save=False)
        image.save()
    return image


def pending_image_name(file_name: str, image_format: str) -> str:
    """The name a pending image is served by: its own, unless that is all digits.

    All-digit names address pending models by id (/api/images/pending/{id}),
    so such a name gets the extension of its format.
    """
    name = file_name[:255]
    return f"{name}.{image_format.lower()}" if name.isdigit() else name


def pending_image_content(image: PendingImage) -> bytes:
    """The original bytes of a staged picture, read through storage."""
    with image.original.open("rb") as original:
        return original.read()


@transaction.atomic
def pending_models_delete(*, ids: Iterable[int]) -> int:
    """Delete pending models and their images; returns how many were deleted.

    The files on disk the rows point at are never touched. Image files are
    removed after commit by imaging's post-delete signal.
    """
    _, per_model = PendingModel.objects.filter(pk__in=list(ids)).delete()
    return per_model.get(PendingModel._meta.label, 0)


def _pending_locked_query(pending_id: int) -> QuerySet:
    links = PendingModel.tags.through.objects.filter(pendingmodel=OuterRef("pk"))
    images = PendingImage.objects.filter(pending_model=OuterRef("pk"))
    return (
        PendingModel.objects.select_for_update()
        .annotate(has_tags=Exists(links), has_images=Exists(images))
        .filter(pk=pending_id)[:1]
    )


_PENDING_LOCKED = PreparedQuery(_pending_locked_query, mark=INTEGER_MARK)


def pending_locked(pending_id: int) -> PendingModel | None:
    """The pending row, locked for the caller's transaction, with ``has_tags`` and
    ``has_images`` (one query, compiled once: a promotion runs it per item)."""
    return _PENDING_LOCKED.first(pending_id)


def pending_row_delete(pending: PendingModel) -> None:
    """Delete a pending row read by ``pending_locked`` in this transaction.

    Without tags or images (known under the row's lock, so none was added
    since) it is one DELETE; else Django's delete, whose signals remove the
    images' files after commit.
    """
    if pending.has_tags or pending.has_images:
        pending.delete()
        return
    table = connection.ops.quote_name(PendingModel._meta.db_table)
    column = connection.ops.quote_name(PendingModel._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE {column} = %s", [pending.pk])
