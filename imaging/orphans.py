"""Finding and removing media files that no row points at.

A process killed between writing a file and committing its row (or between a
temporary write and its rename) leaves a file nothing references or serves.
``manage.py clean_media`` lists such files and, with ``--delete``, removes them.
Files younger than a grace period are left alone: they may belong to a
transaction that is still running.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.core.files.storage import Storage, default_storage

from imaging.files import delete_quietly, stored_names
from imaging.models import renditioned_models

DEFAULT_GRACE = timedelta(hours=1)


@dataclass
class OrphanReport:
    checked: int = 0
    orphans: list[str] = field(default_factory=list)
    removed: int = 0


def referenced_media_names() -> set[str]:
    """Every original and rendition name some row of a renditioned model points at."""
    names: set[str] = set()
    for model in renditioned_models():
        rows = model._default_manager.values_list("uid", "original").iterator(chunk_size=5000)
        for uid, original in rows:
            names.add(original)
            names.update(model(uid=uid).rendition_names())
    return names


def media_orphans_find(
    *, storage: Storage = default_storage, grace: timedelta = DEFAULT_GRACE
) -> OrphanReport:
    """Files under the imaging folders that no row references, older than ``grace``."""
    referenced = referenced_media_names()
    cutoff = datetime.now(UTC) - grace
    report = OrphanReport()
    prefixes = sorted({model.storage_prefix for model in renditioned_models()})
    for prefix in prefixes:
        for folder in (f"{prefix}/originals", f"{prefix}/renditions"):
            for name in stored_names(storage, folder):
                report.checked += 1
                if name not in referenced and storage.get_modified_time(name) < cutoff:
                    report.orphans.append(name)
    return report


def media_orphans_remove(
    *, storage: Storage = default_storage, grace: timedelta = DEFAULT_GRACE
) -> OrphanReport:
    """Delete the files ``media_orphans_find`` lists; rows and referenced files stay."""
    report = media_orphans_find(storage=storage, grace=grace)
    delete_quietly(storage, report.orphans)
    report.removed = sum(not storage.exists(name) for name in report.orphans)
    return report
