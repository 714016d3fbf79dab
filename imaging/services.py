"""Writes of sample images: originals, renditions, seq numbering.

A sample image's public address is (model sha256, seq) with seqs 0..n-1. Both
writers of the numbering (add and delete) first lock the catalog model's row,
so they run one at a time per model: on PostgreSQL through SELECT ... FOR
UPDATE, on SQLite because every transaction takes the write lock at BEGIN
(``transaction_mode`` IMMEDIATE in settings).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Max

from catalog.models import CatalogModel
from config.api import NotFound, ServiceError
from config.checkpoints import checkpoint
from config.progress import NULL_PROGRESS, Progress
from imaging import renditions
from imaging.files import delete_quietly, files_removed_on_rollback, stored_names, write_file
from imaging.models import RenditionedImage, SampleImage, renditioned_models

__all__ = [
    "files_removed_on_rollback",
    "image_decode_check",
    "image_files_remove_on_commit",
    "renditions_missing",
    "renditions_rebuild",
    "renditions_write",
    "sample_image_add",
    "sample_image_delete",
    "sample_image_remove",
]

# Extension of a stored original, by the format Pillow found (not the name the
# client sent, which may lie).
_EXTENSIONS = {
    "JPEG": ("jpg", "jpeg", "jpe", "jfif"),
    "MPO": ("jpg", "jpeg", "mpo"),
    "PNG": ("png", "apng"),
    "WEBP": ("webp",),
    "GIF": ("gif",),
    "BMP": ("bmp", "dib"),
    "TIFF": ("tif", "tiff"),
    "AVIF": ("avif",),
}


def image_decode_check(*, content: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an uploaded picture, fully decoded by Pillow.

    Raises UnsupportedMedia (415) when Pillow cannot decode it and InvalidInput
    (400, code ``image_too_large_in_pixels``) for decompression bombs. Writes
    nothing.
    """
    return renditions.decode_check(content)


def renditions_write(*, image: RenditionedImage) -> None:
    """Render the three WebP tiers of ``image.original`` and store them.

    Each file is written to a temporary name and moved into place, replacing
    any earlier rendition. Raises UnsupportedMedia / InvalidInput when the
    original cannot be decoded. Writes ``image.rendition_name(q)`` for every q.
    """
    storage = image.original.storage
    with image.original.open("rb") as original:
        source = original.read()
    for quality, data in renditions.render_renditions(source).items():
        write_file(storage, image.rendition_name(quality), data)


def renditions_missing(*, image: RenditionedImage) -> bool:
    """Whether any of the three rendition files of ``image`` is absent."""
    storage = image.original.storage
    return any(not storage.exists(name) for name in image.rendition_names())


@dataclass
class RebuildSummary:
    checked: int = 0
    rebuilt: int = 0
    failed: list[str] = field(default_factory=list)


def renditions_rebuild(
    *, rebuild_all: bool = False, progress: Progress = NULL_PROGRESS
) -> RebuildSummary:
    """Render the renditions of every image that misses one (or of all images).

    Covers every model with renditions (sample and pending images). A bad or
    missing original is counted in ``failed`` and the run goes on.
    ``progress`` advances once per image. Writes rendition files only.
    """
    models = renditioned_models()
    querysets = [model._default_manager.order_by("pk") for model in models]
    total = sum(queryset.count() for queryset in querysets)
    # One listing per folder instead of three existence checks per image: in a
    # bucket that is a few requests for the whole run, not 3 per image.
    present = set() if rebuild_all else _renditions_present(models)
    summary = RebuildSummary()
    progress.start(total)
    for queryset in querysets:
        for image in queryset.iterator(chunk_size=200):
            summary.checked += 1
            if rebuild_all or not present.issuperset(image.rendition_names()):
                try:
                    renditions_write(image=image)
                    summary.rebuilt += 1
                except (ServiceError, OSError) as error:
                    reason = getattr(error, "message", None) or str(error)
                    summary.failed.append(f"{image._meta.label} {image.pk}: {reason}")
            progress.advance()
    return summary


def _renditions_present(models: list[type[RenditionedImage]]) -> set[str]:
    names: set[str] = set()
    for model in models:
        storage = model._meta.get_field("original").storage
        names.update(stored_names(storage, f"{model.storage_prefix}/renditions"))
    return names


def image_files_remove_on_commit(*, image: RenditionedImage) -> None:
    """Delete the original and renditions of a deleted row once the delete commits.

    Outside a transaction this happens at once. A rollback keeps the files,
    and with them the row that still points at them.
    """
    names = [image.original.name, *image.rendition_names()]
    transaction.on_commit(partial(delete_quietly, image.original.storage, names))


def _original_file_name(file_name: str, image_format: str) -> str:
    extensions = _EXTENSIONS.get(image_format, (image_format.lower() or "bin",))
    given = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return f"original.{given if given in extensions else extensions[0]}"


def _locked_model(sha256: str) -> CatalogModel:
    model = CatalogModel.objects.select_for_update().filter(pk=sha256).first()
    if model is None:
        raise NotFound(f"No catalog model has sha256 {sha256}.", code="model_not_found")
    return model


def sample_image_add(
    *, model: CatalogModel, content: bytes, file_name: str, dedupe: bool = False
) -> SampleImage | None:
    """Store a picture as the next sample image of ``model``.

    The bytes are decoded before anything is written. The image takes seq n
    (n = images the model has) under a lock of the model row, so concurrent
    adds get distinct seqs. With ``dedupe`` an image whose bytes equal one the
    model already has is not added and None is returned. Works inside an outer
    transaction.

    Raises UnsupportedMedia (415), InvalidInput (400, decompression bomb) and
    NotFound (404, the model was deleted meanwhile). Writes the original under
    ``images/originals/`` and, through the post-save signal, its renditions
    under ``images/renditions/``; both are removed again if this fails.
    """
    image_format, width, height = image_decode_check(content=content)
    digest = hashlib.sha256(content).hexdigest()
    with files_removed_on_rollback(), transaction.atomic():
        locked = _locked_model(model.pk)
        images = SampleImage.objects.filter(model=locked)
        if dedupe and images.filter(content_sha256=digest).exists():
            return None
        # max + 1 equals the count while seqs are contiguous, and cannot
        # collide even if they were not.
        top = images.aggregate(top=Max("seq"))["top"]
        image = SampleImage(
            model=locked,
            seq=0 if top is None else top + 1,
            content_sha256=digest,
            width=width,
            height=height,
        )
        image.original.save(
            _original_file_name(file_name, image_format), ContentFile(content), save=False
        )
        image.save()
    return image


def _delete_and_shift(image: SampleImage) -> None:
    """Delete a locked model's image and move the later ones down one seq."""
    image.delete()
    later = SampleImage.objects.filter(model_id=image.model_id, seq__gt=image.seq)
    top = later.aggregate(top=Max("seq"))["top"]
    if top is None:
        return
    # (model, seq) is unique and PostgreSQL and SQLite check it row by row, so
    # "seq - 1" in one UPDATE could collide midway. Move the block above every
    # existing seq first (seqs are non-negative), then down into place.
    offset = top + 1
    later.update(seq=F("seq") + offset)
    checkpoint("image_delete_shift")  # crash tests: between the two UPDATEs
    SampleImage.objects.filter(model_id=image.model_id, seq__gt=top).update(
        seq=F("seq") - offset - 1
    )


def sample_image_delete(*, sha256: str, seq: int) -> None:
    """Delete image ``seq`` of model ``sha256``; later images move down one seq.

    One transaction: the numbering is either the old or the new one, never
    with a gap or a duplicate. Raises NotFound (404) when there is no such
    image. Removes the image's original and renditions after commit.
    """
    with transaction.atomic():
        model = _locked_model(sha256)
        image = SampleImage.objects.filter(model=model, seq=seq).first()
        if image is None:
            raise NotFound(f"Model {sha256} has no image with seq {seq}.", code="image_not_found")
        _delete_and_shift(image)


def sample_image_remove(*, image_id: int) -> None:
    """Delete a sample image by its row id (the admin's delete), shifting like
    ``sample_image_delete``; its seq is read under the lock, so several
    removals in a row each see the numbering left by the previous one.

    Raises NotFound (404). Removes the image's files after commit.
    """
    with transaction.atomic():
        sha256 = SampleImage.objects.filter(pk=image_id).values_list("model_id", flat=True).first()
        image = None
        if sha256 is not None:
            _locked_model(sha256)
            # Read again under the lock: a concurrent delete may have moved it.
            image = SampleImage.objects.filter(pk=image_id).first()
        if image is None:
            raise NotFound(f"No sample image has id {image_id}.", code="image_not_found")
        _delete_and_shift(image)
