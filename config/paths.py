"""Confining paths a client names to folders the operator allowed.

``LEGACY_IMPORT_ROOTS`` lists the folders below which the legacy-import API may
read a legacy database and its images. Paths are compared after resolving
symlinks and ``..``, so a link inside an allowed folder that points elsewhere
is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.storage import FileSystemStorage

# Folders are separated by os.pathsep (":" on POSIX, ";" on Windows) or ",".
_SEPARATORS = re.compile("[" + re.escape(os.pathsep) + ",]")


def parse_path_roots(raw: str, variable: str) -> list[Path]:
    """Absolute folders from ``raw``, resolved; ImproperlyConfigured naming ``variable``."""
    roots: list[Path] = []
    for item in _SEPARATORS.split(raw):
        text = item.strip()
        if not text:
            continue
        folder = Path(text).expanduser()
        if not folder.is_absolute():
            raise ImproperlyConfigured(
                f"{variable} must list absolute folders, and {text!r} is not absolute."
            )
        resolved = folder.resolve()
        if resolved not in roots:
            roots.append(resolved)
    return roots


def path_roots_from(variable: str, environ: Mapping[str, str] = os.environ) -> list[Path]:
    return parse_path_roots(environ.get(variable, ""), variable)


def path_is_allowed(path: str | os.PathLike[str], roots: Sequence[Path]) -> bool:
    """True when ``roots`` is empty (no restriction) or ``path`` resolves below one of them.

    A path that cannot be resolved (NUL byte, too long, a symlink loop) is never
    allowed when roots are set.
    """
    if not roots:
        return True
    try:
        resolved = Path(os.fspath(path)).expanduser().resolve()
    except (OSError, ValueError, RuntimeError):
        return False
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


class ConfinedFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage whose files must also resolve below ``roots``.

    FileSystemStorage keeps names inside its folder, but follows symlinks
    found there; this one refuses (SuspiciousFileOperation) a file whose real
    path leaves the allowed folders. With no roots it behaves like its parent.
    """

    def __init__(self, *, roots: Sequence[Path], **kwargs):
        super().__init__(**kwargs)
        self.roots = list(roots)

    def path(self, name: str) -> str:
        path = super().path(name)
        if not path_is_allowed(path, self.roots):
            raise SuspiciousFileOperation(f"{name} resolves outside the allowed folders.")
        return path
