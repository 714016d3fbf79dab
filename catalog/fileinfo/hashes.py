"""The hashes model sites and image metadata quote, from as few reads as possible.

- ``autov1``: the first 8 hex of the SHA-256 of the 64 KiB at offset 0x100000
  (AUTOMATIC1111's old "model hash"); one small read, so a scan computes it.
- ``sha256``: the file's SHA-256, the catalog identity. ``autov2``: its first 10 hex.
- ``tensor_sha256``: the SHA-256 of a safetensors file's bytes after its header
  (from 8 + header length to the end). ``autov3``: its first 12 hex.

``file_digests`` computes ``sha256`` and ``tensor_sha256`` from one read of
the file: every block read feeds both digests. ``hashlib`` releases the GIL
while it hashes, so the second digest runs on its own thread, over the same
buffers, while the first runs on this one.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import queue
import threading
from typing import BinaryIO, NamedTuple

from catalog.hashing import CHUNK_SIZE, THREADED_MIN_SIZE, sha256_of_file

AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000
# Buffers in flight: the reader fills one while the two digests work on others.
BUFFERS = 4

_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_local = threading.local()


class FileDigests(NamedTuple):
    sha256: str
    # "" when the file is not safetensors (no tensor data offset).
    tensor_sha256: str


def autov1_of(handle: BinaryIO) -> str:
    """AutoV1 of an open file: 64 KiB at 1 MiB (fewer, or none, in a small file)."""
    handle.seek(AUTOV1_OFFSET)
    return hashlib.sha256(handle.read(AUTOV1_LENGTH)).hexdigest()[:8]


def autov2_of(sha256: str) -> str:
    return sha256[:10] if sha256 else ""


def autov3_of(tensor_sha256: str) -> str:
    return tensor_sha256[:12] if tensor_sha256 else ""


def short_hashes(*, sha256: str = "", tensor_sha256: str = "", autov1: str = "") -> dict[str, str]:
    """The ``hashes`` object of a ``file`` record: only the forms that are known."""
    hashes = {
        "sha256": sha256,
        "autov1": autov1,
        "autov2": autov2_of(sha256),
        "autov3": autov3_of(tensor_sha256),
        "tensor_sha256": tensor_sha256,
    }
    return {name: value for name, value in hashes.items() if value}


def file_digests(path: str, *, tensor_offset: int | None) -> FileDigests:
    """``sha256`` of the file and, with ``tensor_offset``, ``tensor_sha256`` of the
    bytes from that offset to the end, from one read. Raises OSError.

    Without a tensor offset this is ``catalog.hashing.sha256_of_file``. With
    one, a large file on a machine with a free core is read by a reader thread
    into page-aligned buffers that go to the whole-file digest (this thread)
    and then to the tensor digest (a second thread).
    """
    if tensor_offset is None:
        return FileDigests(sha256_of_file(path), "")
    with open(path, "rb", buffering=0) as handle:
        size = os.fstat(handle.fileno()).st_size
        if size >= THREADED_MIN_SIZE and _CORES > 1:
            return _digests_threaded(handle, tensor_offset)
        return _digests_serial(handle, tensor_offset)


def _buffers(count: int) -> list[mmap.mmap]:
    # Kept per thread, as catalog.hashing does: faulting in fresh mappings per
    # file costs more than hashing a small one.
    kept: list[mmap.mmap] = getattr(_local, "buffers", [])
    while len(kept) < count:
        kept.append(mmap.mmap(-1, CHUNK_SIZE))
    _local.buffers = kept
    return kept[:count]


def _digests_serial(handle: BinaryIO, tensor_offset: int) -> FileDigests:
    whole, tensors = hashlib.sha256(), hashlib.sha256()
    (buffer,) = _buffers(1)
    position = 0
    with memoryview(buffer) as view:
        while count := handle.readinto(buffer):
            whole.update(view[:count])
            start = max(tensor_offset - position, 0)
            if start < count:
                tensors.update(view[start:count])
            position += count
    return FileDigests(whole.hexdigest(), tensors.hexdigest())


def _digests_threaded(handle: BinaryIO, tensor_offset: int) -> FileDigests:
    """reader thread -> whole-file digest (here) -> tensor digest thread -> reader."""
    whole, tensors = hashlib.sha256(), hashlib.sha256()
    empty: queue.SimpleQueue = queue.SimpleQueue()
    full: queue.SimpleQueue = queue.SimpleQueue()
    second: queue.SimpleQueue = queue.SimpleQueue()
    for buffer in _buffers(BUFFERS):
        empty.put(buffer)

    def read() -> None:
        try:
            while (buffer := empty.get()) is not None:
                count = handle.readinto(buffer)
                full.put((buffer, count))
                if not count:
                    return
        except BaseException as exc:  # handed to this thread, which raises it
            full.put(exc)

    def hash_tensors() -> None:
        position = 0
        try:
            while (item := second.get()) is not None:
                buffer, count = item
                start = max(tensor_offset - position, 0)
                if start < count:
                    with memoryview(buffer) as view:
                        tensors.update(view[start:count])
                position += count
                empty.put(buffer)
        except BaseException as exc:  # handed to the first thread, which raises it
            full.put(exc)

    reader = threading.Thread(target=read, name="digest-reader", daemon=True)
    hasher = threading.Thread(target=hash_tensors, name="tensor-digest", daemon=True)
    reader.start()
    hasher.start()
    try:
        while True:
            item = full.get()
            if isinstance(item, BaseException):
                raise item
            buffer, count = item
            if not count:
                break
            with memoryview(buffer) as view:
                whole.update(view[:count])
            second.put((buffer, count))
    finally:
        second.put(None)
        hasher.join()
        # None stops a reader still waiting for a buffer (after an error here).
        empty.put(None)
        reader.join()
    return FileDigests(whole.hexdigest(), tensors.hexdigest())
