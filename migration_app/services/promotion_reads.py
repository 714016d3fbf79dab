"""What a promotion reads before an item's transaction: the pending row, the file's
hash, its sidecar names and its embedded thumbnail.

Promoting many items spends its time in two places that can overlap: each
item's transaction (SQL, most of it Python time in the ORM) and hashing its
file (``hashlib`` releases the GIL). ``ReadAhead`` reads the pending rows and
their hash cache rows a chunk at a time (one query each instead of one per
item), hashes the files on a thread one chunk ahead of the transactions, and
writes the new hash cache rows in one statement per chunk instead of one
autocommitted upsert per item. The thread also lists each folder once per
chunk for the files' sidecars and reads the embedded thumbnails, so that the
common item (no sidecar, no thumbnail) costs its transaction no file access
and no query for them. Only the calling thread uses the database.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from catalog.fileinfo.record import embedded_thumbnail
from catalog.fileinfo.sidecars import Companions, companions_find, companions_of
from catalog.hashing import FileStat, file_stat
from catalog.models import FileHash
from catalog.services import (
    CachedDigest,
    FileChanged,
    file_digest_read,
    file_hashes_lookup,
    file_hashes_record,
)
from migration_app.models import PendingModel

# Items read per query and hashed ahead of the transactions.
CHUNK = 64


@dataclass
class FileRead:
    """One item's pending row (None: no such id) and its file's stat and digest,
    or the error reading the file raised (OSError, FileChanged); its sidecar
    and preview names and its embedded thumbnail's data URI ("" if none)."""

    pending: PendingModel | None
    stat: FileStat | None = None
    digest: CachedDigest | None = None
    error: Exception | None = None
    # The hash cache row to record (None when the cache answered).
    entry: FileHash | None = None
    companions: Companions | None = None
    thumbnail: str | None = None


def file_read(
    pending: PendingModel | None, cached: FileHash | None, companions: Companions | None = None
) -> FileRead:
    """Stat and hash the pending model's file through ``cached``, find its sidecars
    (unless ``companions`` are given) and its thumbnail; no database access."""
    if pending is None:
        return FileRead(None)
    try:
        stat = file_stat(pending.path)
        digest, entry = file_digest_read(path=pending.path, cached=cached)
    except (OSError, FileChanged) as exc:
        return FileRead(pending, error=exc)
    if companions is None:
        companions = companions_find(pending.path)
    return FileRead(
        pending,
        stat,
        digest,
        entry=entry,
        companions=companions,
        thumbnail=embedded_thumbnail(pending.path),
    )


def pending_read_now(pending_id: int) -> FileRead:
    """One item read on its own (a single promotion); writes its hash cache row."""
    pending = PendingModel.objects.filter(pk=pending_id).first()
    cached = file_hashes_lookup(paths=[pending.path]).get(pending.path) if pending else None
    read = file_read(pending, cached)
    if read.entry is not None:
        file_hashes_record(entries=[read.entry])
    return read


class ReadAhead:
    """``get(id)`` answers the FileRead of each of ``ids``, asked in order.

    Use as a context manager: leaving it (also on cancel) stops the hashing
    after the file in hand and records the hash cache rows of every file read.
    """

    def __init__(self, ids: list[int], *, chunk: int = CHUNK):
        self.ids = ids
        self.chunk = chunk
        self.submitted = 0
        self.futures: dict[int, Future[FileRead]] = {}
        self.entries: list[FileHash] = []
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="promotion-hash")

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for future in self.futures.values():
            future.cancel()
        self.pool.shutdown(wait=True)
        for future in self.futures.values():
            if not future.cancelled() and future.result().entry is not None:
                self.entries.append(future.result().entry)
        self._record()

    def get(self, pending_id: int) -> FileRead:
        # Keep the next chunk in the hashing thread's hands while this one is promoted.
        while pending_id not in self.futures or len(self.futures) <= self.chunk:
            if self.submitted >= len(self.ids):
                break
            self._submit(self.ids[self.submitted : self.submitted + self.chunk])
        read = self.futures.pop(pending_id).result()
        if read.entry is not None:
            self.entries.append(read.entry)
            if len(self.entries) >= self.chunk:
                self._record()
        return read

    def _submit(self, ids: list[int]) -> None:
        self.submitted += len(ids)
        rows = PendingModel.objects.in_bulk(ids)
        paths = [row.path for row in rows.values()]
        cache = file_hashes_lookup(paths=paths)
        # The pool has one thread: the listing is done before the chunk's files.
        listing = self.pool.submit(companions_of, paths)
        for pending_id in ids:
            pending = rows.get(pending_id)
            cached = cache.get(pending.path) if pending is not None else None
            self.futures[pending_id] = self.pool.submit(_read_listed, pending, cached, listing)

    def _record(self) -> None:
        file_hashes_record(entries=self.entries)
        self.entries = []


def _read_listed(
    pending: PendingModel | None, cached: FileHash | None, listing: Future[dict[str, Companions]]
) -> FileRead:
    companions = listing.result().get(pending.path) if pending is not None else None
    return file_read(pending, cached, companions)
