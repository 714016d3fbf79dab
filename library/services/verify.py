"""Verify: look at every known file and bring the catalog in line with the disk.

Every location of every catalog model and every pending file is stat'ed, a
batch of rows at a time. Nothing is read while a file's size and modification
time are as recorded; a changed file is re-hashed through the hash cache. The
files themselves are only ever stat'ed and read (docs/library-health.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from catalog.file_info import catalog_tensor_hash_fill
from catalog.locations import (
    ABSENT_ERRNOS,
    location_add,
    models_presence_refresh,
    now_ms,
    stat_values,
)
from catalog.models import CatalogModel, ModelLocation
from catalog.services import FileChanged, file_sha256_cached
from config.api import Conflict
from config.progress import NULL_PROGRESS, Progress
from library.services.paths import root_type_for
from migration_app.models import PendingModel
from migration_app.services.folder_scan import found_files_stage
from migration_app.services.model_walk import FoundFile

# Rows read and stat'ed per round: one SELECT, then writes only for what changed.
STAT_BATCH = 2000
# Threads stat'ing a batch at the same time.
STAT_THREADS = 4
# Failures listed in a report (all are counted).
FAILURES_LISTED = 100

# What a batch reads of each location: enough to tell an unchanged file.
_LOCATION_COLUMNS = ("id", "path", "size_bytes", "mtime_ns", "missing")
_STAT_FIELDS = ["size_bytes", "mtime_ns", "device", "inode", "missing", "missing_since"]


@dataclass
class VerifyReport:
    checked: int = 0
    missing: int = 0
    restored: int = 0
    changed: int = 0
    unchanged: int = 0
    # Changed files whose bytes are no longer their model's: staged as pending,
    # or linked to the catalog model whose bytes they now hold.
    staged: int = 0
    linked: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The verify report (POST /api/library/verify and the verify job's result)."""
        return {
            "status": "success",
            "checked": self.checked,
            "missing": self.missing,
            "restored": self.restored,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "staged": self.staged,
            "linked": self.linked,
            "failed": self.failed,
            "failures": self.failures,
        }

    def fail(self, path: str, error: str) -> None:
        self.checked += 1
        self.failed += 1
        if len(self.failures) < FAILURES_LISTED:
            self.failures.append({"path": path, "error": error})


def library_verify(*, progress: Progress = NULL_PROGRESS) -> VerifyReport:
    """Stat every location and every pending file; record what changed.

    A location not found is marked missing (its model too once no location is
    present); found again, it is restored. A file whose size or modification
    time changed is re-hashed: still the model's bytes, its stat is recorded;
    other bytes, it is taken off the model and linked to the catalog model
    holding those bytes, or staged as a new pending model. A pending file that
    changed gets its new size (and sha256, when it had one). Missing models
    are never deleted. ``progress`` advances per file, after its batch
    committed. Writes ModelLocation, CatalogModel, PendingModel and FileHash
    rows; never a model file.
    """
    report = VerifyReport()
    pathless_models_refresh()
    progress.start(ModelLocation.objects.count() + PendingModel.objects.count())
    locations_verify(report=report, progress=progress)
    _pending_verify(report, progress)
    return report


def pathless_models_refresh() -> int:
    """Bring the models without a path in line with their locations; how many changed.

    A model with no location at all is nowhere on disk: missing. (Every writer
    records locations, and the migration gave each model its path as one, so
    these are the only models verify would not reach through a location.) The
    path index finds them without reading the catalog.
    """
    pathless = CatalogModel.objects.filter(path="").values_list("pk", flat=True)
    return models_presence_refresh(pathless.iterator(chunk_size=STAT_BATCH))


def locations_verify(
    *,
    report: VerifyReport | None = None,
    paths: Iterable[str] | None = None,
    under: str | None = None,
    progress: Progress = NULL_PROGRESS,
) -> VerifyReport:
    """Verify the locations (all; those at ``paths``; those under the folder
    ``under``) as ``library_verify`` does, and return the report.

    The folder watcher calls it with the paths it saw removed or created and
    with a root that was unmounted or came back.
    """
    report = report or VerifyReport()
    queryset = ModelLocation.objects.all()
    if under is not None:
        queryset = queryset.filter(path__startswith=under.rstrip(os.sep) + os.sep)
    with ThreadPoolExecutor(STAT_THREADS, thread_name_prefix="verify-stat") as pool:
        if paths is not None:
            wanted = sorted(set(paths))
            for start in range(0, len(wanted), STAT_BATCH // 4):
                rows = _rows(queryset.filter(path__in=wanted[start : start + STAT_BATCH // 4]))
                _batch_verify(rows, _stats(pool, rows), report, progress)
            return report
        # By primary key, without filtering on ``missing``: SQLite would then
        # pick the (missing, size) index and sort every batch. The next batch
        # is read while the threads stat this one.
        rows = _rows(queryset.order_by("id")[:STAT_BATCH])
        while rows:
            stats = _stats(pool, rows)
            following = _rows(queryset.filter(id__gt=rows[-1][0]).order_by("id")[:STAT_BATCH])
            _batch_verify(rows, stats, report, progress)
            rows = following
    return report


def _stats(pool: ThreadPoolExecutor, rows: list[tuple]) -> list[Future]:
    """Stat the batch's paths on the pool's threads, a slice each.

    os.stat releases the GIL: the threads' system calls overlap each other
    and the next batch's query (a network share answers each one slowly).
    """
    paths = [row[1] for row in rows]
    size = -(-len(paths) // STAT_THREADS) or 1
    return [
        pool.submit(_stat_slice, paths[start : start + size])
        for start in range(0, len(paths), size)
    ]


def _stat_slice(paths: list[str]) -> list[os.stat_result | OSError]:
    stat = os.stat
    found: list[os.stat_result | OSError] = []
    for path in paths:
        try:
            found.append(stat(path))
        except OSError as exc:
            found.append(exc)
    return found


def _rows(queryset) -> list[tuple]:
    """(id, path, size_bytes, mtime_ns) of a batch, as the database returns them.

    Only what an unchanged file needs, without ``values_list``'s per-value
    converters: at 100,000 locations the model ids and those converters cost
    as much as the stat calls themselves. The rest is read for changed rows.
    """
    sql, params = queryset.values_list(*_LOCATION_COLUMNS).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _batch_verify(
    rows: list[tuple], stats: list[Future], report: VerifyReport, progress: Progress
) -> None:
    """One batch, its files stat'ed: one transaction for what merely went missing
    or came back; then each file that needs re-hashing, each in its own transaction."""
    gone: list[int] = []
    back: list[ModelLocation] = []
    recheck: list[tuple[tuple, os.stat_result]] = []
    unchanged = 0
    infos = [info for future in stats for info in future.result()]
    for row, info in zip(rows, infos, strict=True):
        location_id, path, size, mtime_ns, was_missing = row
        if isinstance(info, OSError):
            exc = info
            if exc.errno not in ABSENT_ERRNOS:
                report.fail(path, f"could not be looked at ({exc.strerror or exc})")
            elif was_missing:
                report.checked += 1
                report.missing += 1
            else:
                gone.append(location_id)
            continue
        if info.st_mtime_ns != mtime_ns or info.st_size != size or not mtime_ns:
            recheck.append((row, info))  # changed, or never seen: its bytes are checked
        elif was_missing:
            back.append(ModelLocation(id=location_id, **stat_values(info)))
        else:
            unchanged += 1
    report.checked += unchanged + len(gone) + len(back)
    report.unchanged += unchanged
    report.missing += len(gone)
    report.restored += len(back)
    if gone or back:
        with transaction.atomic():
            ModelLocation.objects.filter(id__in=gone, missing=False).update(
                missing=True, missing_since=now_ms()
            )
            ModelLocation.objects.bulk_update(back, _STAT_FIELDS, batch_size=500)
            ids = gone + [location.id for location in back]
            models_presence_refresh(_model_ids(ids).values())
    progress.advance(len(rows) - len(recheck))
    owners = _model_ids([row[0] for row, _ in recheck]) if recheck else {}
    for (location_id, path, _, mtime_ns, was_missing), info in recheck:
        if location_id in owners:
            _location_recheck(
                location_id, owners[location_id], path, mtime_ns, bool(was_missing), info, report
            )
        progress.advance()


def _model_ids(location_ids: list[int]) -> dict[int, str]:
    """location id -> model sha256, for the few rows of a batch that changed."""
    found: dict[int, str] = {}
    for start in range(0, len(location_ids), 500):
        chunk = location_ids[start : start + 500]
        found.update(ModelLocation.objects.filter(id__in=chunk).values_list("id", "model_id"))
    return found


def _location_recheck(
    location_id: int,
    model_id: str,
    path: str,
    mtime_ns: int,
    was_missing: bool,
    info: os.stat_result,
    report: VerifyReport,
) -> None:
    """Re-hash one changed (or never seen) location and act on what its bytes are."""
    try:
        digest = file_sha256_cached(path=path)
    except FileNotFoundError:
        report.checked += 1
        report.missing += 1
        with transaction.atomic():
            ModelLocation.objects.filter(id=location_id, missing=False).update(
                missing=True, missing_since=now_ms()
            )
            models_presence_refresh([model_id])
        return
    except FileChanged:
        report.fail(path, "changed while it was read (still being written?); verify again")
        return
    except OSError as exc:
        report.fail(path, f"could not be read ({exc.strerror or exc})")
        return
    try:
        info = os.stat(path)  # the stat the digest was taken at
    except OSError:
        pass
    report.checked += 1
    if digest == model_id:
        with transaction.atomic():
            ModelLocation.objects.filter(id=location_id, path=path).update(**stat_values(info))
            models_presence_refresh([model_id])
            # The read that verified the bytes also gave their tensor hash.
            catalog_tensor_hash_fill(sha256=model_id, path=path)
        if was_missing:
            report.restored += 1
        elif mtime_ns == 0:
            report.unchanged += 1  # first look at it: nothing to compare with
        else:
            report.changed += 1
        return
    report.changed += 1
    try:
        _location_reassign(location_id, model_id, path, digest, info, report)
    except Conflict:
        report.checked -= 1
        report.changed -= 1
        report.fail(path, "a scan staged it at the same moment; verify again")


def _location_reassign(
    location_id: int,
    model_id: str,
    path: str,
    digest: str,
    info: os.stat_result,
    report: VerifyReport,
) -> None:
    """The file at ``path`` now holds ``digest``'s bytes, not ``model_id``'s.

    In one transaction, so that the path is always a location or pending for
    a concurrent scan: the location goes to the catalog model of those bytes,
    or is removed and the file staged as a pending model.
    """
    with transaction.atomic():
        if not ModelLocation.objects.filter(id=location_id, path=path, model_id=model_id).exists():
            return  # changed meanwhile (a promotion, a relink)
        holder = CatalogModel.objects.filter(pk=digest).first()
        if holder is not None:
            location_add(model=holder, path=path, info=info)
            report.linked += 1
            return
        model_type = CatalogModel.objects.filter(pk=model_id).values_list("type", flat=True).first()
        ModelLocation.objects.filter(id=location_id).delete()
        models_presence_refresh([model_id])
        found = FoundFile(
            path, root_type_for(path) or model_type or "", info.st_size, info.st_mtime_ns
        )
        staged = found_files_stage(found=[found])
        PendingModel.objects.filter(pk__in=staged.pending_ids).update(
            sha256=digest, mtime_ns=info.st_mtime_ns
        )
        report.staged += staged.pending_added
        report.linked += staged.relinked


def _pending_verify(report: VerifyReport, progress: Progress) -> None:
    """Stat every pending file: new sizes recorded, stale hashes re-hashed."""
    last = 0
    columns = ("id", "path", "size_bytes", "mtime_ns", "sha256")
    while True:
        rows = list(
            PendingModel.objects.filter(id__gt=last)
            .order_by("id")
            .values_list(*columns)[:STAT_BATCH]
        )
        if not rows:
            return
        last = rows[-1][0]
        seen: list[PendingModel] = []
        rehash: list[tuple[int, str, os.stat_result, bool]] = []
        for pending_id, path, size, mtime_ns, sha256 in rows:
            try:
                info = os.stat(path)
            except OSError as exc:
                if exc.errno in ABSENT_ERRNOS:
                    report.checked += 1
                    report.missing += 1  # nothing to record: a pending row has no such flag
                else:
                    report.fail(path, f"could not be looked at ({exc.strerror or exc})")
                continue
            if (info.st_size, info.st_mtime_ns) == (size, mtime_ns):
                report.checked += 1
                report.unchanged += 1
                continue
            first_look = mtime_ns == 0  # staged from the legacy database: never looked at
            if sha256:
                rehash.append((pending_id, path, info, first_look))
                continue
            report.checked += 1
            if first_look and info.st_size == size:
                report.unchanged += 1
            else:
                report.changed += 1
            seen.append(
                PendingModel(id=pending_id, size_bytes=info.st_size, mtime_ns=info.st_mtime_ns)
            )
        if seen:
            PendingModel.objects.bulk_update(seen, ["size_bytes", "mtime_ns"], batch_size=500)
        progress.advance(len(rows) - len(rehash))
        for pending_id, path, info, first_look in rehash:
            _pending_rehash(pending_id, path, info, first_look, report)
            progress.advance()


def _pending_rehash(
    pending_id: int, path: str, info: os.stat_result, first_look: bool, report: VerifyReport
) -> None:
    try:
        digest = file_sha256_cached(path=path)
    except (OSError, FileChanged) as exc:
        # The recorded sha256 can no longer be vouched for.
        PendingModel.objects.filter(pk=pending_id).update(sha256="")
        report.fail(path, f"could not be re-hashed ({getattr(exc, 'strerror', None) or exc})")
        return
    before = PendingModel.objects.filter(pk=pending_id).values_list("sha256", flat=True).first()
    PendingModel.objects.filter(pk=pending_id).update(
        sha256=digest, size_bytes=info.st_size, mtime_ns=info.st_mtime_ns
    )
    report.checked += 1
    if first_look and before == digest:
        report.unchanged += 1
    else:
        report.changed += 1
