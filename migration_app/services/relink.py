"""The scan's relink: new files that are a catalog model's moved copies.

Kept apart from folder_scan.py so that the scan only calls it; the location
rules themselves live in catalog.locations (docs/library-health.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from catalog.locations import location_sizes, locations_gone_mark, locations_relink
from migration_app.selectors import known_paths


def found_files_relink(found: Sequence[Any]) -> list[str]:
    """Relink the files among ``found`` (with ``path`` and ``size_bytes``) that are
    neither a location nor pending and hold the bytes of a catalog model whose
    copy of that size is gone; the paths relinked.

    Only new files whose size equals a location's are looked at: the present
    locations of those sizes are stat'ed first (a file moved since the last
    verify is gone from its old path), then the candidates are hashed unless
    they are the missing file renamed. One query when no size matches.
    Writes ModelLocation, CatalogModel and FileHash rows.
    """
    sizes = location_sizes()
    candidates = [item for item in found if item.size_bytes in sizes]
    if not candidates:
        return []
    known = known_paths(item.path for item in candidates)
    new = [item for item in candidates if item.path not in known]
    if not new:
        return []
    locations_gone_mark(sizes={item.size_bytes for item in new})
    return locations_relink(new)
