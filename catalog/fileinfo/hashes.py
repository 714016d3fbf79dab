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
import os
from typing import BinaryIO, NamedTuple

from catalog.hashing import CORES, THREADED_MIN_SIZE, Consumer, read_blocks, sha256_of_file

AUTOV1_OFFSET = 0x100000
AUTOV1_LENGTH = 0x10000


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
    whole, tensors = hashlib.sha256(), hashlib.sha256()
    with open(path, "rb", buffering=0) as handle:
        threaded = os.fstat(handle.fileno()).st_size >= THREADED_MIN_SIZE and CORES > 1
        read_blocks(
            handle, [whole.update, _from_offset(tensors.update, tensor_offset)], threaded=threaded
        )
    return FileDigests(whole.hexdigest(), tensors.hexdigest())


def _from_offset(update: Consumer, offset: int) -> Consumer:
    """``update`` for a file's blocks in order, leaving out its first ``offset`` bytes."""
    position = 0

    def consume(block: memoryview) -> None:
        nonlocal position
        start = max(offset - position, 0)
        if start < len(block):
            update(block[start:])
        position += len(block)

    return consume
