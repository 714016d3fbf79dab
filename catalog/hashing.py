"""SHA-256 of model files: fast reads, and a cache keyed by the file's stat."""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from typing import BinaryIO, NamedTuple

# 4 MiB reads into page-aligned buffers: an anonymous mmap starts on a page
# boundary, where the kernel's copy is several times faster than into an
# unaligned bytearray (hashlib.file_digest's buffer); see docs/PERFORMANCE.md.
CHUNK_SIZE = 4 * 1024 * 1024
# Files up to this size are read and hashed in one thread: a reader thread
# only pays off once there are several chunks to overlap.
THREADED_MIN_SIZE = 4 * CHUNK_SIZE
# Buffers in flight between the reader thread and the hasher.
BUFFERS = 3

# Files being hashed in this process right now. The reader thread needs an
# idle core: when several files are hashed at once (``scan --hash --workers``),
# the cores are already busy hashing and a reader thread only adds switching.
_active = 0
_active_lock = threading.Lock()
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

# Each thread keeps its buffers: allocating (and faulting in) a fresh 4 MiB
# mapping per file doubled the time to hash a 1 MB file. At most
# BUFFERS * CHUNK_SIZE (12 MiB) stays allocated per thread that hashed.
_local = threading.local()


def _buffers(count: int, size: int) -> list[mmap.mmap]:
    """``count`` page-aligned buffers of ``size`` bytes owned by the calling thread."""
    kept: list[mmap.mmap] = getattr(_local, "buffers", [])
    if kept and len(kept[0]) != size:
        kept = []
    while len(kept) < count:
        kept.append(mmap.mmap(-1, size))
    _local.buffers = kept
    return kept[:count]


class FileStat(NamedTuple):
    path: str
    size_bytes: int
    mtime_ns: int


def file_stat(path: str) -> FileStat:
    info = os.stat(path)
    return FileStat(path, info.st_size, info.st_mtime_ns)


def sha256_of_file(path: str, chunk_size: int = CHUNK_SIZE) -> str:
    """The SHA-256 of a file's bytes, read in large blocks into reused buffers.

    A large file hashed while no other is (and a core is free) is read by a
    second thread while this one hashes: both the read (a kernel copy) and
    ``hashlib``'s update release the GIL, so the copy overlaps the hashing
    instead of adding to it. Raises OSError as ``open`` and ``read`` do.
    """
    global _active
    with open(path, "rb", buffering=0) as handle:
        large = os.fstat(handle.fileno()).st_size >= THREADED_MIN_SIZE
        with _active_lock:
            alone = _active == 0
            _active += 1
        try:
            if large and alone and _CORES > 1:
                return _sha256_with_reader(handle, chunk_size)
            return _sha256_serial(handle, chunk_size)
        finally:
            with _active_lock:
                _active -= 1


def _sha256_serial(handle: BinaryIO, chunk_size: int) -> str:
    digest = hashlib.sha256()
    (buffer,) = _buffers(1, chunk_size)
    with memoryview(buffer) as view:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
    return digest.hexdigest()


def _sha256_with_reader(handle: BinaryIO, chunk_size: int) -> str:
    digest = hashlib.sha256()
    buffers = _buffers(BUFFERS, chunk_size)
    empty: queue.SimpleQueue[mmap.mmap | None] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException] = queue.SimpleQueue()
    for buffer in buffers:
        empty.put(buffer)
    reader = threading.Thread(
        target=_read_into_buffers, args=(handle, empty, full), name="sha256-reader", daemon=True
    )
    reader.start()
    try:
        while True:
            item = full.get()
            if isinstance(item, BaseException):
                raise item
            buffer, count = item
            if not count:
                break
            with memoryview(buffer) as view:
                digest.update(view[:count])
            empty.put(buffer)
    finally:
        # None tells a reader still waiting for a buffer to stop (after an error here).
        empty.put(None)
        reader.join()
    return digest.hexdigest()


def _read_into_buffers(
    handle: BinaryIO,
    empty: queue.SimpleQueue[mmap.mmap | None],
    full: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException],
) -> None:
    """Fill the buffers the hasher hands back until end of file (count 0) or an error."""
    try:
        while (buffer := empty.get()) is not None:
            count = handle.readinto(buffer)
            full.put((buffer, count))
            if not count:
                return
    except BaseException as exc:  # handed to the hashing thread, which raises it
        full.put(exc)
