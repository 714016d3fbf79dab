"""Which configured root (and so which model type) a path lies under."""

from __future__ import annotations

import os

from config.api import NotConfigured
from migration_app.services.folder_scan import scan_roots


def roots_or_none() -> list[tuple[str, str]]:
    """(type, folder) pairs, deepest folder first; empty without configured roots."""
    try:
        return scan_roots()
    except NotConfigured:
        return []


def root_type_for(path: str, roots: list[tuple[str, str]] | None = None) -> str | None:
    """The type of the deepest configured root holding ``path``, else None."""
    for model_type, folder in roots if roots is not None else roots_or_none():
        if path.startswith(folder.rstrip(os.sep) + os.sep):
            return model_type
    return None
