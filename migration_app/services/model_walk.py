"""The walk of the model roots: every model file once, with its size and mtime.

Kept apart from the staging in folder_scan.py: the scan, the re-scan and the
folder watcher all walk through here. A re-scan of 100,000 unchanged files is
mostly this walk, so its loop does per file only what a bare ``os.scandir``
walk with ``stat`` must do, plus the extension test (and the hard-link check
for the rare file with several links; docs/PERFORMANCE.md).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import NamedTuple

logger = logging.getLogger(__name__)

MODEL_EXTENSIONS = frozenset(
    {".safetensors", ".ckpt", ".pt", ".pt2", ".pth", ".bin", ".pkl", ".sft", ".gguf", ".onnx"}
)
# For str.endswith, which takes a tuple and tests it in C.
_SUFFIXES = tuple(MODEL_EXTENSIONS)


class FoundFile(NamedTuple):
    """A model file the walk found."""

    path: str
    type: str
    size_bytes: int
    mtime_ns: int


# FoundFile(...) runs a Python-level __new__; tuple.__new__ builds the same
# named tuple in C: 0.3 µs instead of 0.7 µs, 40 ms of a 100,000-file walk.
_new_tuple = tuple.__new__
_by_name = attrgetter("name")


def is_model_name(name: str) -> bool:
    """Whether a file name has a model extension, in any case.

    As with os.path.splitext, leading dots do not start an extension: a file
    named ".bin" has none.
    """
    return name.lstrip(".").lower().endswith(_SUFFIXES)


def model_files_walk(
    roots: Iterable[tuple[str, str]],
    *,
    missing_roots: list[str] | None = None,
    listings: dict[str, list[str]] | None = None,
) -> Iterator[list[FoundFile]]:
    """The model files under ``roots`` (type, folder), a folder's files at a time, each file once.

    Folders are visited in name order. Directories are remembered by
    (st_dev, st_ino), so a symlink loop or a folder reached from two roots is
    walked once. A file is reported once too: hard links under the first
    path reached; a symlinked file last, and only when the file it points to
    was not reported under its own path (``_symlinked_once``). A root that
    is not a folder is added to ``missing_roots``. ``listings`` receives the
    names in every folder holding a model file, so that its sidecars are
    found without listing it again.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[int] = set()
    symlinked: list[tuple[FoundFile, os.stat_result]] = []
    for model_type, root in roots:
        if not os.path.isdir(root):
            if missing_roots is not None:
                missing_roots.append(root)
            continue
        # Normalised once here: every path below is then root + names, so no
        # per-file normpath/abspath (a fifth of a 100,000-file walk).
        stack = [os.path.normpath(os.path.abspath(root))]
        while stack:
            folder = stack.pop()
            entries = _entries(folder, seen_dirs)
            subfolders: list[str] = []
            links_before = len(symlinked)
            files = _model_files(entries, model_type, seen_files, subfolders, symlinked)
            if listings is not None and (files or len(symlinked) > links_before):
                listings[folder] = [entry.name for entry in entries]
            if files:
                yield files
            stack.extend(reversed(subfolders))
    linked = _symlinked_once(symlinked, seen_dirs, seen_files)
    if linked:
        yield linked


def _entries(folder: str, seen_dirs: set[tuple[int, int]]) -> list[os.DirEntry]:
    try:
        info = os.stat(folder)
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            return []
        with os.scandir(folder) as iterator:
            entries = sorted(iterator, key=_by_name)
        # Only a folder listed counts as walked: _symlinked_once trusts that
        # every file in it was seen.
        seen_dirs.add(key)
        return entries
    except OSError as exc:
        logger.warning("Scan: cannot list %s (%s); skipped.", folder, exc)
        return []


def _model_files(
    entries: list[os.DirEntry],
    model_type: str,
    seen_files: set[int],
    subfolders: list[str],
    symlinked: list[tuple[FoundFile, os.stat_result]],
) -> list[FoundFile]:
    """The model files among one folder's entries; its subfolders go to
    ``subfolders``, its symlinked files to ``symlinked`` (decided after the walk).

    The re-scan's inner loop: one pass, one list per folder (not a generator
    step per file). A plain file with one link can be reached by no other
    path (its folder is walked once), so only files with several links are
    remembered by (st_dev, st_ino): 9 % of a 100,000-file walk saved.
    """
    files: list[FoundFile] = []
    for entry in entries:
        try:
            if entry.is_dir():
                subfolders.append(entry.path)
                continue
            if not is_model_name(entry.name) or not entry.is_file():
                continue
            info = entry.stat()
            if entry.is_symlink():
                symlinked.append((_found(entry.path, model_type, info), info))
                continue
        except OSError:  # a dangling symlink, or a file removed while walking
            continue
        if info.st_nlink > 1:
            key = _file_key(info)
            if key in seen_files:
                continue
            seen_files.add(key)
        # Built inline, not by _found(): this is the walk's hot path.
        files.append(
            _new_tuple(FoundFile, (entry.path, model_type, info.st_size, info.st_mtime_ns))
        )
    return files


def _found(path: str, model_type: str, info: os.stat_result) -> FoundFile:
    return _new_tuple(FoundFile, (path, model_type, info.st_size, info.st_mtime_ns))


def _file_key(info: os.stat_result) -> int:
    # One int, not a (dev, inode) tuple: ints are never traced by the cyclic
    # collector, and a set of 100,000 tuples is (docs/PERFORMANCE.md).
    return info.st_dev << 64 | info.st_ino


def _symlinked_once(
    symlinked: list[tuple[FoundFile, os.stat_result]],
    seen_dirs: set[tuple[int, int]],
    seen_files: set[int],
) -> list[FoundFile]:
    """The symlinked files to report: each file once, and none whose target
    the walk reported under its own path.

    A target with several links was remembered by the walk (``seen_files``);
    a target with one link was reported when the walk listed its folder and
    its name is a model file's.
    """
    once: list[FoundFile] = []
    for found, info in symlinked:
        key = _file_key(info)
        if key in seen_files or (info.st_nlink == 1 and _target_walked(found.path, seen_dirs)):
            continue
        seen_files.add(key)
        once.append(found)
    return once


def _target_walked(path: str, seen_dirs: set[tuple[int, int]]) -> bool:
    real = os.path.realpath(path)
    try:
        folder = os.stat(os.path.dirname(real))
    except OSError:
        return False
    return (folder.st_dev, folder.st_ino) in seen_dirs and is_model_name(os.path.basename(real))
