"""What other model managers wrote beside a model file, read-only.

One pure reader per format (bytes in, a normalised ``Reading`` with warnings
out), the grouping of a folder's names by ``<base>``, the merge by the
precedence table with the hash check, and ``sidecars_load`` that reads them
from disk. See docs/sidecars.md.
"""

from catalog.fileinfo.sidecars.common import MAX_SIDECAR_BYTES, Reading
from catalog.fileinfo.sidecars.files import (
    READERS,
    companions_find,
    companions_of,
    sidecar_read,
    sidecar_readings,
    sidecars_load,
)
from catalog.fileinfo.sidecars.grouping import (
    PRECEDENCE,
    PREVIEW_EXTENSIONS,
    SIDECAR_SUFFIXES,
    Companions,
    companions_group,
    model_base,
)
from catalog.fileinfo.sidecars.merge import Sidecars, known_hashes, sidecars_merge

__all__ = [
    "MAX_SIDECAR_BYTES",
    "PRECEDENCE",
    "PREVIEW_EXTENSIONS",
    "READERS",
    "SIDECAR_SUFFIXES",
    "Companions",
    "Reading",
    "Sidecars",
    "companions_find",
    "companions_of",
    "companions_group",
    "known_hashes",
    "model_base",
    "sidecar_read",
    "sidecar_readings",
    "sidecars_load",
    "sidecars_merge",
]
