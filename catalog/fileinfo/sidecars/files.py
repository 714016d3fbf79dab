"""Reading a model's sidecars from disk: the only module here that touches files.

Only names found in the model's own folder listing are opened, read-only;
a path or address written inside a sidecar is never followed.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Callable, Iterable

from catalog.fileinfo.sidecars import (
    a1111_json,
    civitai_info,
    cm_info,
    descriptions,
    lora_manager,
    swarm,
)
from catalog.fileinfo.sidecars.common import MAX_SIDECAR_BYTES, Reading
from catalog.fileinfo.sidecars.grouping import Companions, companions_group
from catalog.fileinfo.sidecars.merge import Sidecars, sidecars_merge

READERS: dict[str, Callable[..., Reading]] = {
    a1111_json.SOURCE: a1111_json.read,
    lora_manager.SOURCE: lora_manager.read,
    cm_info.SOURCE: cm_info.read,
    swarm.SOURCE: swarm.read,
    civitai_info.SOURCE: civitai_info.read,
    descriptions.MARKDOWN: descriptions.read_markdown,
    descriptions.TEXT: descriptions.read_text,
    descriptions.DESCRIPTION_TEXT: descriptions.read_text,
}


def sidecar_read(source: str, data: bytes, *, file_name: str) -> Reading:
    """Read one sidecar's bytes with the reader of its source (a key of READERS)."""
    return READERS[source](data, file_name=file_name)


def companions_find(model_path: str) -> Companions:
    """The sidecars and previews beside ``model_path``, listing its folder once.

    For callers without a listing at hand (backfill); a folder that cannot be
    listed has none.
    """
    return companions_of([model_path])[model_path]


def companions_of(model_paths: Iterable[str]) -> dict[str, Companions]:
    """The companions of each of ``model_paths``, listing each of their folders once.

    A promotion asks for a chunk of files at a time: listing a folder of
    30,000 files once per file would cost more than the promotion itself.
    """
    by_folder: dict[str, list[str]] = defaultdict(list)
    for path in model_paths:
        folder, name = os.path.split(path)
        by_folder[folder].append(name)
    found: dict[str, Companions] = {}
    for folder, names in by_folder.items():
        try:
            groups = companions_group(sorted(os.listdir(folder or ".")), names)
        except OSError:
            groups = {}
        for name in names:
            found[os.path.join(folder, name)] = groups.get(name, Companions())
    return found


def sidecar_readings(
    model_path: str, *, companions: Companions | None = None
) -> tuple[list[Reading], list[str]]:
    """The readings of ``model_path``'s sidecars and its preview paths, unmerged.

    ``companions`` come from a scan's listing; without them the folder is
    listed. Never raises for a sidecar: one that cannot be read gives a
    reading with nothing but a warning.
    """
    folder = os.path.dirname(model_path)
    if companions is None:
        companions = companions_find(model_path)
    readings = []
    for source, name in companions.sidecars.items():
        data, problem = _sidecar_bytes(os.path.join(folder, name))
        if problem is not None:
            reading = Reading(source, name)
            reading.warn(problem)
            readings.append(reading)
        else:
            readings.append(sidecar_read(source, data, file_name=name))
    return readings, [os.path.join(folder, name) for name in companions.previews]


def sidecars_load(
    model_path: str,
    *,
    companions: Companions | None = None,
    hashes: dict[str, str] | None = None,
) -> Sidecars:
    """Read and merge every sidecar of ``model_path`` (``sidecar_readings``);
    ``hashes``: the file's own, for the check (``sidecars_merge``)."""
    readings, previews = sidecar_readings(model_path, companions=companions)
    return sidecars_merge(readings, previews=previews, hashes=hashes)


def _sidecar_bytes(path: str) -> tuple[bytes, str | None]:
    """The bytes of a regular file of at most MAX_SIDECAR_BYTES, or why not.

    Opened without blocking (a FIFO named like a sidecar would otherwise wait
    for a writer) and checked on the open descriptor: one open, one fstat,
    one read per sidecar, as a scan reads tens of thousands of them.
    """
    limit = f"larger than {MAX_SIDECAR_BYTES // (1024 * 1024)} MiB; skipped"
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        return b"", f"could not be read ({exc.strerror or exc}); skipped"
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return b"", "not a regular file; skipped"
        if info.st_size > MAX_SIDECAR_BYTES:
            return b"", limit
        chunks = []
        wanted = info.st_size + 1  # one byte more shows a file that grew meanwhile
        while wanted > 0:
            asked = min(wanted, MAX_SIDECAR_BYTES + 1)
            chunk = os.read(descriptor, asked)
            chunks.append(chunk)
            wanted -= len(chunk)
            if len(chunk) < asked:  # end of file (a regular file reads whole otherwise)
                break
    except OSError as exc:
        return b"", f"could not be read ({exc.strerror or exc}); skipped"
    finally:
        os.close(descriptor)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > MAX_SIDECAR_BYTES:
        return b"", limit
    return data, None


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
