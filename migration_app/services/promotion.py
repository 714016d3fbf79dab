"""Stage 2: promote pending models into the catalog, resolving sha256 collisions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from catalog.file_info import catalog_file_info_fill
from catalog.locations import location_add, location_add_new
from catalog.models import CatalogModel
from catalog.services import FileChanged
from config.api import InvalidInput, ServiceError
from config.checkpoints import checkpoint
from config.prepared import PreparedQuery
from config.progress import NULL_PROGRESS, Progress
from imaging.services import files_removed_on_rollback, sample_image_add
from migration_app.models import PendingModel
from migration_app.services.file_info import (
    embedded_thumbnail_add,
    promoted_name,
    promotion_file_values,
)
from migration_app.services.pending import (
    pending_image_content,
    pending_locked,
    pending_row_delete,
)
from migration_app.services.promotion_reads import FileRead, ReadAhead, pending_read_now
from migration_app.services.records import catalog_fields_apply, catalog_tags_add, record_values
from migration_app.services.sidecars import pending_sidecars_apply

logger = logging.getLogger(__name__)

OVERRIDE, MERGE, IGNORE, DELETE = "override", "merge", "ignore", "delete"
STRATEGIES = (OVERRIDE, MERGE, IGNORE, DELETE)

SUCCESS, CONFLICT, IGNORED, DELETED, FAILED = "success", "conflict", "ignored", "deleted", "failed"


@dataclass
class PromotionOutcome:
    status: str
    id: int
    sha256: str = ""
    error: str = ""
    conflict: dict[str, Any] = field(default_factory=dict)
    # The id names no pending model (import_a_model answers 404 for it).
    unknown_id: bool = False
    # A success that merged into a catalog model already holding these bytes
    # (strategy merge or override), rather than a new catalog model.
    merged: bool = False

    def as_item(self) -> dict[str, Any]:
        """The outcome as one object (import_a_model); ``failed`` reads "error" there."""
        item: dict[str, Any] = {
            "status": "error" if self.status == FAILED else self.status,
            "id": self.id,
            "sha256": self.sha256,
        }
        if self.status == FAILED:
            item["error"] = self.error
        if self.status == CONFLICT:
            item.update(pending=self.conflict["pending"], existing=self.conflict["existing"])
        return item


def strategy_clean(value: Any) -> str | None:
    """A conflict strategy from input: None, "null" (None) or one of STRATEGIES."""
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "null":
        return None
    if text not in STRATEGIES:
        raise InvalidInput(
            f"conflict_strategy must be null, {', '.join(STRATEGIES)}; not {value!r}.",
            code="invalid_strategy",
            fields={"conflict_strategy": [f"Unknown strategy: {value!r}."]},
        )
    return text


def pending_models_promote(
    *, ids: list[int], strategy: str | None, progress: Progress = NULL_PROGRESS
) -> list[PromotionOutcome]:
    """Promote each distinct id in order, each in its own transaction.

    One item's failure never undoes another's success; ``progress`` advances
    once per item, after its transaction committed. The pending rows are read
    and their files hashed a chunk ahead of the transactions, on a thread
    (``ReadAhead``). Writes what ``pending_model_promote`` writes.
    """
    distinct = list(dict.fromkeys(ids))
    progress.start(len(distinct))
    outcomes = []
    with ReadAhead(distinct) as reads:
        for pending_id in distinct:
            read = reads.get(pending_id)
            outcomes.append(
                pending_model_promote(pending_id=pending_id, strategy=strategy, read=read)
            )
            progress.advance()
    return outcomes


def promotion_body(outcomes: list[PromotionOutcome]) -> dict[str, Any]:
    """The 207 body of SPEC.md (Stage 2): ids grouped by outcome, conflict
    details, and ``{"id", "error"}`` for failures."""
    body: dict[str, Any] = {
        "total": len(outcomes),
        SUCCESS: [],
        CONFLICT: [],
        IGNORED: [],
        DELETED: [],
        FAILED: [],
    }
    for outcome in outcomes:
        if outcome.status == FAILED:
            body[FAILED].append({"id": outcome.id, "error": outcome.error})
        elif outcome.status == CONFLICT:
            body[CONFLICT].append(outcome.conflict)
        else:
            body[outcome.status].append(outcome.id)
    return body


def pending_model_promote(
    *, pending_id: int, strategy: str | None, read: FileRead | None = None
) -> PromotionOutcome:
    """Hash one pending model's file and move it into the catalog.

    Without a catalog model of that sha256 it becomes one (its images the
    sample images 0..k-1) and the pending row goes. With one, ``strategy``
    decides: None reports the conflict and changes nothing; ``override``
    replaces the catalog fields with the pending non-empty ones, ``merge``
    only fills empty ones, both add tags and append images and remove the
    pending row; ``ignore`` changes nothing; ``delete`` removes the pending row.

    Never raises for a per-item problem: an unknown id or a missing or
    unreadable file gives a ``failed`` outcome and keeps the pending row.
    Writes a FileHash row, catalog rows and sample images (files under
    ``images/``); the pending images' files are removed after commit.
    ``read``: the pending row and file digest read ahead (else read now).
    """
    # Hash outside the transaction: reading a large file must not hold the
    # database's write lock.
    if read is None:
        read = pending_read_now(pending_id)
    pending = read.pending
    if pending is None:
        return PromotionOutcome(
            FAILED, pending_id, error=f"No pending model has id {pending_id}.", unknown_id=True
        )
    try:
        if read.error is not None:
            raise read.error
        stat, digest = read.stat, read.digest
        sha256 = digest.sha256
        # The header too (read again only if the file changed since the scan).
        file_values = promotion_file_values(
            pending, stat, sha256=sha256, tensor_sha256=digest.tensor_sha256
        )
    except FileNotFoundError:
        return _failed(
            pending_id,
            f"The file {pending.path} does not exist (moved, deleted, or recorded on "
            "another machine); the pending model was kept. Put the file back, or delete "
            "the pending model.",
        )
    except FileChanged:
        return _failed(pending_id, f"{pending.path} changed while it was read; promote it again.")
    except OSError as exc:
        return _failed(pending_id, f"{pending.path} could not be read ({exc.strerror or exc}).")
    try:
        with files_removed_on_rollback(), transaction.atomic():
            return _resolve(pending_id, sha256, read, strategy, file_values)
    except IntegrityError:
        return _failed(
            pending_id,
            f"Another request changed catalog model {sha256} at the same moment; promote it again.",
            sha256,
        )
    except ServiceError as exc:
        return _failed(pending_id, exc.message, sha256)


def _failed(pending_id: int, error: str, sha256: str = "") -> PromotionOutcome:
    return PromotionOutcome(FAILED, pending_id, sha256=sha256, error=error)


# The catalog model of a sha256, locked: compiled once, run per item.
_CATALOG_LOCKED = PreparedQuery(
    lambda sha256: CatalogModel.objects.select_for_update().filter(pk=sha256)[:1]
)


def _resolve(
    pending_id: int,
    sha256: str,
    read: FileRead,
    strategy: str | None,
    file_values: dict[str, Any],
) -> PromotionOutcome:
    pending = pending_locked(pending_id)
    if pending is None:
        return _failed(pending_id, f"Pending model {pending_id} was removed meanwhile.", sha256)
    existing = _CATALOG_LOCKED.first(sha256)
    if existing is None:
        values = record_values(pending) | {"size_bytes": read.stat.size_bytes} | file_values
        values["name"] = promoted_name(pending, file_values["file_info"])
        model = CatalogModel.objects.create(sha256=sha256, **values)
        location_add_new(model=model)
        _carry_over(pending, model)
        _file_extras_apply(pending, model, read, new_model=True)
        return PromotionOutcome(SUCCESS, pending_id, sha256)
    if strategy is None:
        return PromotionOutcome(
            CONFLICT,
            pending_id,
            sha256,
            conflict={
                "pending": {"id": pending.pk, "path": pending.path},
                "existing": {"id": existing.sha256, "path": existing.path},
                "sha256": sha256,
            },
        )
    if strategy == IGNORE:
        return PromotionOutcome(IGNORED, pending_id, sha256)
    if strategy == DELETE:
        # The file stays on disk (it is never touched): remembered as a copy of
        # the model, so that the next scan does not stage it again.
        location_add(model=existing, path=pending.path)
        pending_row_delete(pending)
        return PromotionOutcome(DELETED, pending_id, sha256)
    values = record_values(pending) | {"size_bytes": read.stat.size_bytes}
    values["name"] = promoted_name(pending, file_values["file_info"])
    # The path is not a field to fill or override: the copy becomes a location,
    # and ``path`` stays the model's primary present location.
    values.pop("path")
    catalog_fields_apply(model=existing, values=values, override=strategy == OVERRIDE)
    catalog_file_info_fill(model=existing, values=file_values)
    location_add(model=existing, path=pending.path)
    _carry_over(pending, existing)
    _file_extras_apply(pending, existing, read, new_model=False)
    return PromotionOutcome(SUCCESS, pending_id, sha256, merged=True)


def _carry_over(pending: PendingModel, model: CatalogModel) -> None:
    """Move the pending tags and images onto ``model``, then drop the pending row."""
    if pending.has_tags:
        catalog_tags_add(model=model, tags=pending.tags.all())
    if pending.has_images:
        for image in pending.images.order_by("position", "id"):
            try:
                content = pending_image_content(image)
            except FileNotFoundError:
                logger.warning("Pending image %s has no file any more; not carried over.", image)
                continue
            sample_image_add(model=model, content=content, file_name=image.file_name, dedupe=True)
    checkpoint("promotion_carry_over")  # crash tests: catalog rows written, pending kept
    pending_row_delete(pending)


def _file_extras_apply(
    pending: PendingModel, model: CatalogModel, read: FileRead, *, new_model: bool
) -> None:
    """What lies beside or inside the file: sidecars, then the embedded thumbnail."""
    pending_sidecars_apply(
        pending=pending, model=model, new_model=new_model, companions=read.companions
    )
    embedded_thumbnail_add(model=model, path=read.stat.path, uri=read.thumbnail)
