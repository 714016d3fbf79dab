"""Sidecars at scan and promotion: ``file.sidecars`` of new files, and what a new model takes over.

The readers and the merge are in ``catalog.fileinfo.sidecars`` (no
database); this module stores their record and applies it to catalog
models. Sidecar and preview files are only ever read.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from catalog.fileinfo.detect import BASE_MODEL_LABELS
from catalog.fileinfo.sidecars import (
    Companions,
    Sidecars,
    companions_find,
    companions_group,
    sidecars_load,
)
from catalog.fileinfo.sidecars.common import unique_words
from catalog.models import CatalogModel, FileHash
from config.api import ServiceError
from imaging.services import sample_image_add
from migration_app.models import PendingModel
from tags.models import TAG_NAME_MAX_LENGTH
from tags.services import tags_resolve_or_create

logger = logging.getLogger(__name__)

# Previews that become sample images of one model, at most.
MAX_PREVIEW_IMAGES = 4


def scan_sidecar_records(
    paths: Iterable[str],
    listings: dict[str, list[str]] | None = None,
    hashes: dict[str, dict[str, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """``file.sidecars`` of each new file that has sidecars or previews, by path.

    ``listings`` maps a folder to the names a scan found in it, so that no
    folder is listed twice; a folder it lacks (the watcher stages single
    files) is listed once. ``hashes`` holds what the scan computed per path
    (AutoV1): a sidecar stating another AutoV1 is dropped already; the
    SHA-256 check waits for promotion, which reads the sidecars again.
    """
    by_folder: dict[str, list[str]] = {}
    for path in paths:
        folder, name = os.path.split(path)
        by_folder.setdefault(folder, []).append(name)
    records: dict[str, dict[str, Any]] = {}
    for folder, names in by_folder.items():
        listing = (listings or {}).get(folder)
        if listing is None:
            try:
                listing = sorted(os.listdir(folder))
            except OSError:
                continue
        for name, companions in companions_group(listing, names).items():
            path = os.path.join(folder, name)
            known = (hashes or {}).get(path)
            record = sidecars_load(path, companions=companions, hashes=known).as_dict()
            if record:
                records[path] = record
    return records


@dataclass
class SidecarsApplied:
    """What applying a file's sidecars changed on one catalog model."""

    fields: list[str] = field(default_factory=list)
    images_added: int = 0
    # Sidecars were found but each one described other bytes.
    all_other_bytes: bool = False


@dataclass
class SidecarsPlan:
    """What ``sidecars_apply`` would change, worked out without writing anything."""

    values: dict[str, Any] = field(default_factory=dict)  # catalog columns to set
    file_info: dict[str, Any] | None = None  # the new record, when it changes
    tags: list[str] = field(default_factory=list)  # tag names to add
    add_previews: bool = False
    changed: list[str] = field(default_factory=list)  # the fields filled, in order
    done: set[str] = field(default_factory=set)  # fields filled before

    def __bool__(self) -> bool:
        return bool(self.values or self.file_info is not None or self.tags or self.add_previews)


def model_hashes(
    model: CatalogModel, file_info: dict[str, Any] | None = None, *, cached: bool = True
) -> dict[str, str]:
    """The hashes of ``model``'s file the service has, for the sidecar check.

    ``cached``: look the tensor hash up in the hash cache when the model row
    has none yet (promotion, where the cache was just filled).
    """
    hashes = {"sha256": model.sha256}
    info_hashes = (file_info or {}).get("hashes")
    if isinstance(info_hashes, dict):
        hashes.update((k, v) for k, v in info_hashes.items() if isinstance(v, str) and v)
    for kind in ("autov1", "tensor_sha256"):
        value = getattr(model, kind, "")
        if value:
            hashes[kind] = value
    if cached and "tensor_sha256" not in hashes and model.path:
        cached = FileHash.objects.filter(path=model.path, sha256=model.sha256).first()
        if cached is not None and cached.tensor_sha256:
            hashes["tensor_sha256"] = cached.tensor_sha256
    return hashes


def sidecars_plan(
    *,
    model: CatalogModel,
    sidecars: Sidecars,
    bare_names: Iterable[str],
    new_model: bool,
    images_count: int,
    has_tags: bool,
) -> SidecarsPlan:
    """What applying ``sidecars`` to ``model`` would change (see ``sidecars_apply``).

    Reads nothing from the database: the caller passes the model's image
    count and whether it has tags. An empty plan means a backfill can leave
    the model alone without taking a lock.
    """
    facts = sidecars.facts
    info = dict(model.file_info or {})
    before = info.get("sidecars") if isinstance(info.get("sidecars"), dict) else {}
    plan = SidecarsPlan(done=set(before.get("applied", [])))
    done = plan.done

    def fill(name: str, value: Any) -> None:
        plan.values[name] = value
        plan.changed.append(name)

    name = facts.get("name")
    bare = not model.name or model.name in set(bare_names)
    if name and name != model.name and bare and "name" not in done:
        fill("name", name[:512])
    if facts.get("description") and not model.description and "description" not in done:
        fill("description", facts["description"])
    url = (facts.get("civitai") or {}).get("url")
    if url and not model.community_links and "community_links" not in done:
        fill("community_links", url)
    for flag in ("nsfw", "favorite"):
        if facts.get(flag) is True and not getattr(model, flag) and flag not in done:
            fill(flag, True)
    label = facts.get("base_model")
    if (
        label
        and not _header_base_model(info)
        and model.base_model != label
        and "base_model" not in done
    ):
        fill("base_model", label[:64])
        info["base_model"] = label[:64]
    header_words = info.get("trigger_words") if isinstance(info.get("trigger_words"), list) else []
    merged_words = unique_words([*header_words, *facts.get("trigger_words", [])])
    if merged_words != header_words:
        info["trigger_words"] = merged_words
        plan.changed.append("trigger_words")
    # A tag name tags_add would refuse as too long is left out, not an error.
    tags = [
        tag for tag in facts.get("tags", []) if len(" ".join(tag.split())) <= TAG_NAME_MAX_LENGTH
    ]
    if tags and "tags" not in done and (new_model or not has_tags):
        plan.tags = tags
    plan.add_previews = images_count == 0 and bool(sidecars.previews or sidecars.thumbnails)

    record = sidecars.as_dict()
    if record:
        filled = done | set(plan.changed) | ({"tags"} if plan.tags else set())
        if filled:
            record["applied"] = sorted(filled)
        info["sidecars"] = record
    elif done:
        # The sidecars are gone: remember what was taken from them all the same.
        info["sidecars"] = {"sources": [], "warnings": [], "applied": sorted(done)}
    else:
        info.pop("sidecars", None)
    if info != (model.file_info or {}):
        plan.file_info = info
    return plan


def sidecars_apply(
    *,
    model: CatalogModel,
    sidecars: Sidecars,
    bare_names: Iterable[str],
    new_model: bool,
    images_count: int | None = None,
    has_tags: bool | None = None,
    plan: SidecarsPlan | None = None,
) -> SidecarsApplied:
    """Apply merged sidecars to ``model`` inside the caller's transaction.

    Fills only what is empty, so a curator's edit is never overwritten: the
    name while it is blank or still a bare file name (``bare_names``), the
    description, the Civitai link (``community_links``), the tags when the
    model has none (a new model adds them to its staged ones), ``nsfw`` and
    ``favorite`` when false, and the base model when the header's metadata
    named none; trigger words are merged after the header's. A field once
    set from sidecars is listed in ``file.sidecars.applied`` and never set
    again, so a curator who clears or unticks it afterwards keeps that.
    Previews become sample images while the model has none (at most four; a
    bad one is skipped with a warning). ``file.sidecars`` is stored.
    Idempotent: a second call changes nothing.
    """
    if plan is None:
        plan = sidecars_plan(
            model=model,
            sidecars=sidecars,
            bare_names=bare_names,
            new_model=new_model,
            images_count=model.images.count() if images_count is None else images_count,
            has_tags=model.tags.exists() if has_tags is None else has_tags,
        )
    applied = SidecarsApplied(
        all_other_bytes=not sidecars.sources
        and any("describes other bytes" in warning for warning in sidecars.warnings)
    )
    changed = list(plan.changed)
    if plan.tags:
        resolved = tags_resolve_or_create(names=plan.tags)
        present = set(model.tags.values_list("pk", flat=True)) if new_model else set()
        missing = [tag for tag in resolved if tag.pk not in present]
        if missing:
            model.tags.add(*missing)
            changed.append("tags")
    info = plan.file_info
    if plan.add_previews:
        warnings = list(sidecars.warnings)
        applied.images_added = _previews_add(model, sidecars, warnings)
        if info is None and (warnings != sidecars.warnings or applied.images_added):
            info = dict(model.file_info or {})
        if info is not None and isinstance(info.get("sidecars"), dict):
            record = dict(info["sidecars"])
            record["warnings"] = warnings
            if applied.images_added:
                record["applied"] = sorted({*record.get("applied", []), "images"})
            info["sidecars"] = record
    for name, value in plan.values.items():
        setattr(model, name, value)
    update_fields = list(plan.values)
    if info is not None and info != (model.file_info or {}):
        model.file_info = info
        update_fields.append("file_info")
    if update_fields:
        model.save(update_fields=update_fields)
    applied.fields = changed
    return applied


def _header_base_model(info: dict[str, Any]) -> bool:
    """True when the file's own metadata named its base model (it wins over a sidecar).

    A label equal to the architecture's default (``sdxl`` -> ``SDXL 1.0``) is
    only that default, which a sidecar's ``Pony`` or ``Illustrious`` replaces.
    """
    label = info.get("base_model") or ""
    return bool(label) and label != BASE_MODEL_LABELS.get(info.get("architecture") or "", "")


def _previews_add(model: CatalogModel, sidecars: Sidecars, warnings: list[str]) -> int:
    """Add the preview files, then embedded thumbnails, as sample images; the number added."""
    added = 0
    limit = settings.MAX_UPLOAD_MB * 1024 * 1024
    candidates: list[tuple[str, bytes | None]] = [(path, None) for path in sidecars.previews]
    candidates += [("embedded thumbnail", data) for data in sidecars.thumbnails]
    for label, data in candidates:
        if added >= MAX_PREVIEW_IMAGES:
            break
        name = os.path.basename(label)
        if data is None:
            data, problem = _preview_bytes(label, limit)
            if problem:
                warnings.append(f"{name}: {problem}")
                continue
        try:
            with transaction.atomic():
                image = sample_image_add(
                    model=model, content=data, file_name=name or "preview", dedupe=True
                )
        except ServiceError as exc:
            warnings.append(f"{name}: not added as a sample image ({exc.message})")
            continue
        if image is not None:
            added += 1
    return added


def _preview_bytes(path: str, limit: int) -> tuple[bytes, str]:
    """A preview file's bytes, or why they were not read (never blocks on a pipe)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            return b"", "not a regular file; skipped"
        if info.st_size > limit:
            return b"", f"larger than the {settings.MAX_UPLOAD_MB} MB accepted; skipped"
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(descriptor, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        return b"", f"could not be read ({exc.strerror or exc}); skipped"
    if len(data) > limit:
        return b"", f"larger than the {settings.MAX_UPLOAD_MB} MB accepted; skipped"
    return data, ""


def pending_sidecars_apply(
    *,
    pending: PendingModel,
    model: CatalogModel,
    new_model: bool,
    companions: Companions | None = None,
) -> SidecarsApplied:
    """At promotion: read the pending file's sidecars again, checked against the
    now known hash, and apply them to ``model`` (``sidecars_apply``).

    Runs inside the promotion's transaction, after the pending tags and images
    were carried over, so previews are added only when there were none.
    ``companions``: the file's sidecar and preview names, listed ahead of the
    transaction (else its folder is listed now).
    """
    if companions is None:
        companions = companions_find(pending.path)
    if not companions and "sidecars" not in (model.file_info or {}):
        # Nothing beside the file and nothing taken from sidecars before: no
        # query at all, the common case of a promotion.
        return SidecarsApplied()
    sidecars = sidecars_load(
        pending.path, companions=companions, hashes=model_hashes(model, model.file_info)
    )
    bare_names = {os.path.basename(pending.path), os.path.basename(model.path)}
    return sidecars_apply(
        model=model, sidecars=sidecars, bare_names=bare_names, new_model=new_model
    )
