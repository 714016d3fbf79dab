"""Which files of a folder are a model's sidecars and previews, by name alone.

A model ``<base>.<ext>`` (``<base>`` is the name without its last extension)
owns ``<base>`` + a sidecar suffix and ``<base>`` + a preview suffix. The scan
already lists every folder, so it passes that listing here instead of
walking the folder a second time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# Source name -> the suffix that follows ``<base>``, in precedence order
# (what a person typed before what was fetched; SPEC "Sidecars").
SIDECAR_SUFFIXES: dict[str, str] = {
    "json": ".json",
    "metadata.json": ".metadata.json",
    "cm-info.json": ".cm-info.json",
    "swarm.json": ".swarm.json",
    "civitai.info": ".civitai.info",
    "md": ".md",
    "txt": ".txt",
    "description.txt": ".description.txt",
}
PRECEDENCE = tuple(SIDECAR_SUFFIXES)

# Previews: plain name before ``.preview`` before ``.thumb``; within each,
# the extensions in this order. The format is later taken from the bytes.
PREVIEW_EXTENSIONS = ("png", "jpg", "jpeg", "webp", "gif", "avif")
PREVIEW_MARKS = ("", ".preview", ".thumb")

# (suffix, what it is, rank), longest suffix first, so ``x.metadata.json``
# is tried as the ``.metadata.json`` of ``x`` before the ``.json`` of ``x.metadata``.
_SUFFIXES: list[tuple[str, str, int]] = sorted(
    [(suffix, source, 0) for source, suffix in SIDECAR_SUFFIXES.items()]
    + [
        (f"{mark}.{extension}", "preview", rank)
        for rank, (mark, extension) in enumerate(
            (mark, extension) for mark in PREVIEW_MARKS for extension in PREVIEW_EXTENSIONS
        )
    ],
    key=lambda item: -len(item[0]),
)
# The last extensions worth looking at: every other name is skipped at once.
_LAST_EXTENSIONS = frozenset(suffix.rsplit(".", 1)[1] for suffix, _, _ in _SUFFIXES)


@dataclass
class Companions:
    """A model's sidecar file names (by source) and preview file names (in preview order)."""

    sidecars: dict[str, str] = field(default_factory=dict)
    previews: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.sidecars or self.previews)


def model_base(name: str) -> str:
    """``name`` without its last extension (as os.path.splitext, leading dots kept)."""
    stem = name.lstrip(".")
    dot = stem.rfind(".")
    return name[: len(name) - len(stem) + dot] if dot > 0 else name


def companions_group(names: Iterable[str], model_names: Iterable[str]) -> dict[str, Companions]:
    """Each model name of one folder -> its sidecars and previews among ``names``.

    Suffixes match without regard to case; the base must match exactly, or
    else without regard to case (a folder copied from a case-insensitive
    disk). Models sharing a base (``x.safetensors`` and ``x.ckpt``) share
    their companions. Models without companions are left out.
    """
    bases: dict[str, list[str]] = {}
    for name in model_names:
        bases.setdefault(model_base(name), []).append(name)
    if not bases:
        return {}
    folded = {base.casefold(): base for base in bases}
    found: dict[str, tuple[dict[str, str], list[tuple[int, str]]]] = {}
    for name in names:
        lower = name.lower()
        if lower.rpartition(".")[2] not in _LAST_EXTENSIONS:
            continue
        for suffix, what, rank in _SUFFIXES:
            if not lower.endswith(suffix) or len(name) == len(suffix):
                continue
            base = name[: -len(suffix)]
            base = base if base in bases else folded.get(base.casefold())
            if base is None:
                continue
            sidecars, previews = found.setdefault(base, ({}, []))
            if what == "preview":
                previews.append((rank, name))
            else:
                sidecars.setdefault(what, name)
            break
    grouped = {}
    for base, (sidecars, previews) in found.items():
        ordered = {source: sidecars[source] for source in PRECEDENCE if source in sidecars}
        for model_name in bases[base]:
            grouped[model_name] = Companions(ordered, [name for _, name in sorted(previews)])
    return grouped
