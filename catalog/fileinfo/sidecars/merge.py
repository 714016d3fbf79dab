"""One record from every sidecar of a file: the precedence table and the hash check.

Where sidecars disagree, what a person typed comes before what was fetched:

| rank | source | typical author |
| --- | --- | --- |
| 1 | ``json`` | AUTOMATIC1111/Forge user metadata (civitai-browser-plus adds ids) |
| 2 | ``metadata.json`` | ComfyUI-Lora-Manager |
| 3 | ``cm-info.json`` | StabilityMatrix (``UserTitle`` before ``ModelName``) |
| 4 | ``swarm.json`` | SwarmUI |
| 5 | ``civitai.info`` | Civitai Helper (the Civitai version object) |
| 6 | ``md``, ``txt``, ``description.txt`` | Model-Manager, A1111 description files |

A single value comes from the first source that has it; lists (tags,
trigger words) are joined in that order without repeats (any case).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.fileinfo.sidecars.common import Reading, unique_words
from catalog.fileinfo.sidecars.grouping import PRECEDENCE

# The keys of ``file.sidecars``, in the order the record lists them.
SINGLE_FACTS = ("name", "description", "base_model", "nsfw", "favorite", "preferred_weight")
LIST_FACTS = ("trigger_words", "tags")
RECORD_ORDER = (
    "name",
    "description",
    "trigger_words",
    "base_model",
    "tags",
    "nsfw",
    "favorite",
    "preferred_weight",
    "notes",
    "civitai",
)

# Hash kinds this service computes (catalog.fileinfo); the others a sidecar
# may state (BLAKE3, CRC32) cannot be checked and are ignored.
CHECKABLE_HASHES = ("sha256", "autov1", "autov2", "autov3", "tensor_sha256")


@dataclass
class Sidecars:
    """What every sidecar of a file says, merged. ``as_dict()`` is ``file.sidecars``.

    ``thumbnails`` (images embedded in a sidecar, after the preview files)
    are kept in memory for promotion and are not part of the record.
    """

    facts: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)
    thumbnails: list[bytes] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The ``file.sidecars`` record; {} when the file has no sidecar and no preview."""
        if not (self.sources or self.previews or self.warnings):
            return {}
        record: dict[str, Any] = {"sources": list(self.sources)}
        record.update((key, self.facts[key]) for key in RECORD_ORDER if key in self.facts)
        if self.previews:
            record["previews"] = list(self.previews)
        record["warnings"] = list(self.warnings)
        return record


def known_hashes(hashes: dict[str, str] | None) -> dict[str, str]:
    """The file's hashes by kind, lowercase, with AutoV2/AutoV3 derived where missing."""
    known = {
        kind: value.strip().lower()
        for kind, value in (hashes or {}).items()
        if kind in CHECKABLE_HASHES and isinstance(value, str) and value.strip()
    }
    if "sha256" in known:
        known.setdefault("autov2", known["sha256"][:10])
    if "tensor_sha256" in known:
        known.setdefault("autov3", known["tensor_sha256"][:12])
    return known


def describes_other_bytes(reading: Reading, known: dict[str, str]) -> str | None:
    """The hash kind on which ``reading`` contradicts the file, or None.

    A sidecar matches when, for every kind both sides know, one of the
    values it states is the file's (a Civitai version lists several files).
    """
    for kind in CHECKABLE_HASHES:
        stated = reading.hashes.get(kind)
        if stated and kind in known and known[kind] not in stated:
            return kind
    return None


def sidecars_merge(
    readings: list[Reading],
    *,
    previews: list[str] | None = None,
    hashes: dict[str, str] | None = None,
) -> Sidecars:
    """Merge the readings of one file's sidecars by the precedence table.

    ``hashes`` are the file's own (``{"sha256": ..., "tensor_sha256": ...}``):
    a sidecar stating a hash of a kind given here that is not the file's is
    dropped with the warning "describes other bytes". Without hashes nothing
    is checked yet (a file scanned but not hashed). ``previews`` are the
    preview files' paths, already in preview order.
    """
    known = known_hashes(hashes)
    merged = Sidecars(previews=list(previews or []))
    hint: str | None = None
    ranked = sorted(readings, key=lambda reading: _rank(reading.source))
    for reading in ranked:
        kind = describes_other_bytes(reading, known)
        if kind is not None:
            merged.warnings.append(
                f"{reading.file_name}: describes other bytes (its {_HASH_NAMES[kind]} is not "
                "this file's); ignored"
            )
            continue
        merged.warnings.extend(reading.warnings)
        if not (reading.facts or reading.thumbnails):
            continue
        merged.sources.append(reading.source)
        merged.thumbnails.extend(reading.thumbnails)
        for key, value in reading.facts.items():
            if key in LIST_FACTS:
                merged.facts[key] = unique_words([*merged.facts.get(key, []), *value])
            elif key == "base_model_hint":
                hint = hint or value
            else:
                merged.facts.setdefault(key, value)
    if hint is not None:
        merged.facts.setdefault("base_model", hint)
    return merged


_HASH_NAMES = {
    "sha256": "SHA-256",
    "autov1": "AutoV1 hash",
    "autov2": "AutoV2 hash",
    "autov3": "AutoV3 hash",
    "tensor_sha256": "tensor SHA-256",
}


def _rank(source: str) -> int:
    return PRECEDENCE.index(source) if source in PRECEDENCE else len(PRECEDENCE)
