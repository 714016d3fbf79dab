"""SHA-256 of model files: fast reads (``read_blocks``, also behind the tensor
hash), and a cache keyed by the file's stat."""

from __future__ import annotations

import hashlib
import mmap
import os
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
    """Every consumer on a thread of its own (the first on this one) over one ring of buffers.

    No thread is only a reader: whichever consumer first needs a block that
    is not read yet reads it. The consumer that runs ahead pays for the copy
    and the others catch up, so two digests share two cores evenly (a reader
    thread beside them made three threads for two cores: docs/PERFORMANCE.md).
    A single consumer gets a reader after all, as a second consumer that does
    nothing with its blocks and so reads each one before the first needs it.
    """
    if len(consumers) == 1:
        consumers = [consumers[0], _skip]
    ring = _BlockRing(handle, _buffers(len(consumers) + 2, chunk_size), len(consumers))
    threads = [
        threading.Thread(
            target=ring.consume_all, args=(number, consume), name="block-consumer", daemon=True
        )
        for number, consume in enumerate(consumers[1:], start=1)
    ]
    for thread in threads:
        thread.start()
    try:
        ring.consume_all(0, consumers[0])
    finally:
        for thread in threads:
            thread.join()
    if ring.error is not None:
        raise ring.error


def _skip(block: memoryview) -> None:
    """The reader's consumer: reading the block was its whole work."""


class _BlockRing:
    """Blocks of a file in order, in a ring of buffers that every consumer sees.

    Block ``i`` lives in buffer ``i % len(buffers)`` until every consumer is
    done with it. The first error (a read, or a consumer) stops every consumer.
    """

    def __init__(self, handle: BinaryIO, buffers: list[mmap.mmap], consumers: int):
        self.handle = handle
        self.buffers = buffers
        self.counts = [0] * len(buffers)
        self.blocks_read = 0
        self.ended = False
        self.reading = False
        # Blocks each consumer is done with.
        self.done = [0] * consumers
        self.error: BaseException | None = None
        self.changed = threading.Condition()

    def consume_all(self, number: int, consume: Consumer) -> None:
        """Give every block in turn to consumer ``number``; an error is kept for the caller."""
        try:
            index = 0
            while (count := self._block(index)) is not None:
                with memoryview(self.buffers[index % len(self.buffers)]) as view:
                    consume(view[:count])
                with self.changed:
                    self.done[number] = index + 1
                    self.changed.notify_all()
                index += 1
        except BaseException as exc:
            with self.changed:
                self.error = self.error or exc
                self.changed.notify_all()

    def _block(self, index: int) -> int | None:
        """The byte count of block ``index``, read now if no consumer has read it yet;
        None at the end of the file or after an error."""
        slot = index % len(self.buffers)
        with self.changed:
            while True:
                if self.error is not None:
                    return None
                if index < self.blocks_read:
                    return self.counts[slot]
                if self.ended:
                    return None
                # Reading block ``index`` overwrites block ``index - len(buffers)``:
                # every consumer must be done with it.
                if not self.reading and min(self.done) > index - len(self.buffers):
                    self.reading = True
                    break
                self.changed.wait()
        # Outside the lock: the read (a kernel copy) releases the GIL, and the
        # other consumers go on with the blocks already read meanwhile.
        # A read that fails raises to consume_all, which stops every consumer.
        count = self.handle.readinto(self.buffers[slot])
        with self.changed:
            self.reading = False
            self.counts[slot] = count
            if count:
                self.blocks_read += 1
            else:
                self.ended = True
            self.changed.notify_all()
        return count or None
