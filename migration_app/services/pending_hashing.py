"""Hashing every pending file through the hash cache: ``manage.py scan --hash`` and the hash job.

Filled up front so that a later promotion does not read the files again.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import transaction

from catalog.models import FileHash
from catalog.services import (
    CachedDigest,
    FileChanged,
    file_digest_read,
    file_hashes_lookup,
    file_hashes_record,
)
from config.progress import NULL_PROGRESS, Progress
from migration_app.models import PendingModel
from migration_app.selectors import BATCH


@dataclass
class HashResult:
    hashed: int = 0
    # Size of the hashed files, whether read now or answered by the hash cache.
    bytes: int = 0
    # What was really read, and how many digests the cache answered instead.
    bytes_read: int = 0
    from_cache: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    def as_dict(self) -> dict:
        """The hash job's result."""
        return {
            "hashed": self.hashed,
            "bytes": self.bytes,
            "bytes_read": self.bytes_read,
            "from_cache": self.from_cache,
            "failed": [{"path": path, "error": reason} for path, reason in self.failed],
        }


def pending_files_hash(
    *, workers: int = 2, unhashed_only: bool = False, progress: Progress = NULL_PROGRESS
) -> HashResult:
    """Hash every pending file (``unhashed_only``: those without a sha256 yet)
    through the hash cache and record its sha256.

    ``workers`` threads read files at the same time (hashlib releases the GIL).
    A file whose stat matches the cache is not read again. A file that is
    missing, unreadable or written to while read is listed in ``failed``.
    Writes FileHash rows and PendingModel.sha256.
    """
    pending = PendingModel.objects.order_by("pk")
    if unhashed_only:
        pending = pending.filter(sha256="")
    rows = list(pending.values_list("pk", "path", "size_bytes"))
    progress.start(sum(size for _, _, size in rows))
    result = HashResult()
    # The threads only read files: the cache is read here up front and written
    # here in batches. A query and a connection per file and thread cost more
    # than hashing a small file (50 ms per reconnection on PostgreSQL).
    cache = file_hashes_lookup(paths=[path for _, path, _ in rows])

    def hash_one(path: str) -> tuple[CachedDigest, FileHash | None] | Exception:
        try:
            return file_digest_read(path=path, cached=cache.get(path))
        except (OSError, FileChanged) as exc:
            return exc

    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(hash_one, path) for _, path, _ in rows]
        try:
            _record_hashes(rows, futures, result, progress)
        finally:
            # Cancelled or failed: stop after the files being read, not after all.
            for future in futures:
                future.cancel()
    return result


# A batch of hashed files is written once the next file is not ready yet, or
# after this many files or seconds: a resumed job redoes at most that much.
HASH_WRITE_FILES = BATCH
HASH_WRITE_SECONDS = 1.0


def _record_hashes(
    rows: list[tuple[int, str, int]],
    futures: list[Future],
    result: HashResult,
    progress: Progress,
) -> None:
    batch: list[tuple[tuple[int, str, int], tuple[CachedDigest, FileHash | None] | Exception]] = []
    opened = time.monotonic()
    for row, future in zip(rows, futures, strict=True):
        if batch and (
            not future.done()
            or len(batch) >= HASH_WRITE_FILES
            or time.monotonic() - opened >= HASH_WRITE_SECONDS
        ):
            _hashes_save(batch, result, progress)
            batch = []
        if not batch:
            opened = time.monotonic()
        batch.append((row, future.result()))
    if batch:
        _hashes_save(batch, result, progress)


def _hashes_save(batch: list, result: HashResult, progress: Progress) -> None:
    """Record a batch in one transaction, then count and report its files."""
    hashed = [(row, outcome) for row, outcome in batch if not isinstance(outcome, Exception)]
    with transaction.atomic():
        file_hashes_record(entries=[entry for _, (_, entry) in hashed if entry is not None])
        PendingModel.objects.bulk_update(
            [PendingModel(pk=pk, sha256=digest.sha256) for (pk, _, _), (digest, _) in hashed],
            ["sha256"],
            batch_size=BATCH,
        )
    for (_, path, size), outcome in batch:
        if isinstance(outcome, Exception):
            result.failed.append((path, _hash_failure(outcome)))
        else:
            digest = outcome[0]
            result.hashed += 1
            result.bytes += size
            result.bytes_read += digest.bytes_read
            result.from_cache += digest.from_cache
        # After the commit: a cancel raised here keeps every file recorded.
        progress.advance(size)


def _hash_failure(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "the file does not exist (moved, deleted, or recorded on another machine)"
    if isinstance(exc, FileChanged):
        return "the file changed while it was read; hash again"
    return f"the file could not be read ({exc.strerror or exc})"
