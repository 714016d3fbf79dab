"""SHA-256 of model files: fast reads, and a cache keyed by the file's stat."""

from __future__ import annotations

import hashlib
import mmap
import os
from typing import NamedTuple

# 4 MiB reads into one page-aligned buffer: an anonymous mmap is aligned to a
# page, which keeps the kernel's copy fast (see docs/PERFORMANCE.md).
CHUNK_SIZE = 4 * 1024 * 1024


class FileStat(NamedTuple):
    path: str
    size_bytes: int
    mtime_ns: int


def file_stat(path: str) -> FileStat:
    info = os.stat(path)
    return FileStat(path, info.st_size, info.st_mtime_ns)


def sha256_of_file(path: str, chunk_size: int = CHUNK_SIZE) -> str:
    """The SHA-256 of a file's bytes, read in large blocks into a reused buffer."""
    digest = hashlib.sha256()
    buffer = mmap.mmap(-1, chunk_size)
    view = memoryview(buffer)
    try:
        with open(path, "rb", buffering=0) as handle:
            while True:
                count = handle.readinto(buffer)
                if not count:
                    break
                digest.update(view[:count])
    finally:
        view.release()
        buffer.close()
    return digest.hexdigest()
