"""SHA-256 of model files: fast reads (``read_blocks``, also behind the tensor
hash), and a cache keyed by the file's stat."""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from collections.abc import Callable, Sequence
from typing import BinaryIO, NamedTuple

# 4 MiB reads into page-aligned buffers: an anonymous mmap starts on a page
# boundary, where the kernel's copy is several times faster than into an
# unaligned bytearray (hashlib.file_digest's buffer); see docs/PERFORMANCE.md.
CHUNK_SIZE = 4 * 1024 * 1024
# Files up to this size are read and hashed in one thread: a reader thread
# only pays off once there are several chunks to overlap.
THREADED_MIN_SIZE = 4 * CHUNK_SIZE
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

# Files being hashed in this process right now. The reader thread needs an
# idle core: when several files are hashed at once (``scan --hash --workers``),
# the cores are already busy hashing and a reader thread only adds switching.
_active = 0
_active_lock = threading.Lock()

# Each thread keeps its buffers: allocating (and faulting in) a fresh 4 MiB
# mapping per file doubled the time to hash a 1 MB file. At most one buffer
# per consumer plus two (16 MiB for sha256 + tensor_sha256) stays allocated
# per thread that hashed.
_local = threading.local()

# Takes each block of the file in order. The memoryview is only valid during
# the call: its buffer is refilled once every consumer has had it.
Consumer = Callable[[memoryview], object]


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
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        large = os.fstat(handle.fileno()).st_size >= THREADED_MIN_SIZE
        with _active_lock:
            alone = _active == 0
            _active += 1
        try:
            threaded = large and alone and CORES > 1
            read_blocks(handle, [digest.update], threaded=threaded, chunk_size=chunk_size)
        finally:
            with _active_lock:
                _active -= 1
    return digest.hexdigest()


def read_blocks(
    handle: BinaryIO,
    consumers: Sequence[Consumer],
    *,
    threaded: bool,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """Read ``handle`` to its end into reused page-aligned buffers and give
    each block, in file order, to every consumer in turn.

    Without ``threaded`` this thread reads and calls the consumers. With it a
    reader thread fills the buffers, the first consumer runs on this thread and
    each further one on a thread of its own, over the same buffers: the read (a
    kernel copy) and ``hashlib``'s updates release the GIL, so they overlap.
    An error in any of these threads is raised here.
    """
    if not threaded:
        (buffer,) = _buffers(1, chunk_size)
        with memoryview(buffer) as view:
            while count := handle.readinto(buffer):
                block = view[:count]
                for consume in consumers:
                    consume(block)
        return
    _read_blocks_threaded(handle, consumers, chunk_size)


def _read_blocks_threaded(handle: BinaryIO, consumers: Sequence[Consumer], chunk_size: int) -> None:
    """reader thread -> consumers[0] (here) -> consumers[1] (its thread) -> ... -> reader."""
    empty: queue.SimpleQueue[mmap.mmap | None] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException] = queue.SimpleQueue()
    # Buffers in flight: the reader fills one while each consumer works on
    # another, and one more waits so no stage idles for a hand-back.
    for buffer in _buffers(len(consumers) + 2, chunk_size):
        empty.put(buffer)
    # inboxes[i] holds the blocks consumers[i + 1] has yet to see; the last
    # consumer hands each buffer back to the reader.
    inboxes: list[queue.SimpleQueue[tuple[mmap.mmap, int] | None]] = [
        queue.SimpleQueue() for _ in consumers[1:]
    ]
    onward = [*inboxes, None]
    reader = threading.Thread(
        target=_read_into_buffers, args=(handle, empty, full), name="block-reader", daemon=True
    )
    stages = [
        threading.Thread(
            target=_consume_blocks,
            args=(consumers[number], onward[number - 1], onward[number], empty, full),
            name=f"block-consumer-{number}",
            daemon=True,
        )
        for number in range(1, len(consumers))
    ]
    reader.start()
    for stage in stages:
        stage.start()
    try:
        while True:
            item = full.get()
            if isinstance(item, BaseException):
                raise item
            buffer, count = item
            if not count:
                break
            with memoryview(buffer) as view:
                consumers[0](view[:count])
            _hand_on(buffer, count, onward[0], empty)
    finally:
        # None stops each consumer thread after the blocks already queued for
        # it, then a reader still waiting for a buffer (after an error here).
        for inbox, stage in zip(inboxes, stages, strict=True):
            inbox.put(None)
            stage.join()
        empty.put(None)
        reader.join()
    # A consumer thread that failed on one of the last blocks, after this
    # thread had seen the end of the file.
    while not full.empty():
        if isinstance(item := full.get(), BaseException):
            raise item


def _hand_on(
    buffer: mmap.mmap,
    count: int,
    onward: queue.SimpleQueue[tuple[mmap.mmap, int] | None] | None,
    empty: queue.SimpleQueue[mmap.mmap | None],
) -> None:
    """Pass a block to the next consumer, or its buffer back to the reader after the last."""
    if onward is None:
        empty.put(buffer)
    else:
        onward.put((buffer, count))


def _consume_blocks(
    consume: Consumer,
    inbox: queue.SimpleQueue[tuple[mmap.mmap, int] | None],
    onward: queue.SimpleQueue[tuple[mmap.mmap, int] | None] | None,
    empty: queue.SimpleQueue[mmap.mmap | None],
    full: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException],
) -> None:
    """A consumer's own thread: every block in its inbox until None."""
    try:
        while (item := inbox.get()) is not None:
            buffer, count = item
            with memoryview(buffer) as view:
                consume(view[:count])
            _hand_on(buffer, count, onward, empty)
    except BaseException as exc:  # handed to the calling thread, which raises it
        full.put(exc)


def _read_into_buffers(
    handle: BinaryIO,
    empty: queue.SimpleQueue[mmap.mmap | None],
    full: queue.SimpleQueue[tuple[mmap.mmap, int] | BaseException],
) -> None:
    """Fill the buffers handed back until end of file (count 0) or an error."""
    try:
        while (buffer := empty.get()) is not None:
            count = handle.readinto(buffer)
            full.put((buffer, count))
            if not count:
                return
    except BaseException as exc:  # handed to the calling thread, which raises it
        full.put(exc)
