"""Architecture, kind and base model of a model file, from its tensor names and shapes.

Applies the tables of ``rules.py``: ``KIND_RULES`` decides what the file is,
the table for that kind its architecture; header metadata (modelspec and
kohya ``ss_*`` keys) then confirms or refines the result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from catalog.fileinfo.rule import UNKNOWN, Rule, mask_digits
from catalog.fileinfo.rules import (
    ARCHITECTURE_RULES,
    BASE_MODEL_LABELS,
    GGUF_ARCHITECTURES,
    KIND_RULES,
    MODELSPEC_ARCHITECTURES,
    MODELSPEC_KINDS,
    NO_BASE_MODEL,
    SDXL_FAMILY_NAMES,
    SS_BASE_MODEL_VERSIONS,
)

__all__ = [
    "ARCHITECTURE_RULES",
    "KIND_RULES",
    "UNKNOWN",
    "Detection",
    "detect_gguf",
    "detect_tensors",
]

ShapeOf = Callable[[str], Sequence[int] | None]


@dataclass(frozen=True)
class Detection:
    architecture: str = UNKNOWN
    kind: str = UNKNOWN
    base_model: str = ""


class TensorNames:
    """Tensor names prepared once for every rule.

    The names are joined into one text; a rule's literal is found in it by
    substring search (in C), and only the names holding it are matched
    against the rule's pattern.
    """

    def __init__(self, names: Iterable[str], shape_of: ShapeOf):
        # A name holding a newline would read as two names here; JSON allows
        # one, no model file has one, and at worst such a file is misdetected.
        self.text = "\n" + "\n".join(names) + "\n"
        # The names with digits masked, each once: block numbers make most names
        # of a file alike, so this is a tenth of the text or less. A literal
        # missing here is missing from every name, and most rows miss.
        self.skeleton = "\n".join(set(mask_digits(self.text).split("\n")))
        self.shape_of = shape_of

    def first(self, rules: Iterable[Rule]) -> Rule | None:
        """The first rule that matches a tensor (and whose shape test passes)."""
        for rule in rules:
            if self.matches(rule):
                return rule
        return None

    def matches(self, rule: Rule) -> bool:
        skeleton = self.skeleton
        # Most rows stop here: their literal is in no name of this file.
        if rule.skeletons and not any(text in skeleton for text in rule.skeletons):
            return False
        if rule.also_skeletons and not any(text in skeleton for text in rule.also_skeletons):
            return False
        if rule.also_pattern is not None and not any(
            True for _ in self._names(rule.also_pattern, rule.also_literals)
        ):
            return False
        names = self._names(rule.pattern, rule.literals)
        if rule.dim is None and rule.ndim is None:
            return any(True for _ in names)
        # Shape tests look at a few matching tensors: all of one pattern share
        # their width, and a file never needs more than a handful tried.
        for tried, name in enumerate(names):
            if tried >= 8:
                break
            if _shape_passes(rule, self.shape_of(name)):
                return True
        return False

    def _names(self, pattern: re.Pattern, literals: tuple[str, ...]) -> Iterator[str]:
        """The tensor names that match ``pattern`` entirely."""
        text = self.text
        if not literals:
            for name in text[1:-1].split("\n"):
                if pattern.fullmatch(name):
                    yield name
            return
        for literal in literals:
            start = text.find(literal)
            while start >= 0:
                head = text.rfind("\n", 0, start) + 1
                tail = text.find("\n", start + len(literal))
                name = text[head:tail]
                if pattern.fullmatch(name):
                    yield name
                start = text.find(literal, tail)


def _shape_passes(rule: Rule, shape: Sequence[int] | None) -> bool:
    if not isinstance(shape, (list, tuple)):
        return False
    if rule.ndim is not None and len(shape) != rule.ndim:
        return False
    if rule.dim is not None and rule.sizes:
        try:
            return shape[rule.dim] in rule.sizes
        except IndexError:
            return False
    return True


def detect_tensors(names: Iterable[str], shape_of: ShapeOf) -> Detection:
    """Kind, then architecture (and a label a rule implies), from the tensors alone."""
    tensors = TensorNames(names, shape_of)
    kind_rule = tensors.first(KIND_RULES)
    if kind_rule is None:
        return Detection()
    kind = kind_rule.result
    rule = tensors.first(ARCHITECTURE_RULES[kind])
    if rule is None:
        return Detection(kind=kind)
    return Detection(architecture=rule.result, kind=kind, base_model=rule.base_model)


def detect_gguf(names: Iterable[str], shape_of: ShapeOf, general_architecture: str) -> Detection:
    """GGUF: the tensor names first (ComfyUI-GGUF keeps the original keys), then
    ``general.architecture`` where the names say nothing."""
    found = detect_tensors(names, shape_of)
    named = GGUF_ARCHITECTURES.get(general_architecture.lower().strip())
    if named is None:
        return found
    architecture, kind = named
    return Detection(
        architecture=found.architecture if found.architecture != UNKNOWN else architecture,
        kind=found.kind if found.kind != UNKNOWN else kind,
        base_model=found.base_model,
    )


def refine_with_metadata(
    found: Detection, metadata: Mapping[str, str], *, file_name: str = ""
) -> Detection:
    """Confirm or refine ``found`` with the header's metadata, then fill the label.

    The tensors win a disagreement (metadata is often copied from a template);
    metadata fills what the tensors left unknown, and refines a family the
    tensors agree on (Flux.1 dev or schnell, SD 3 or 3.5, SDXL Turbo). The
    base-model label comes from the metadata's own names where it gives them
    (Pony, Illustrious, NoobAI), else from the architecture.
    """
    architecture, kind, label = found.architecture, found.kind, found.base_model
    spec_arch, spec_label, spec_kind = _from_modelspec(metadata.get("modelspec.architecture", ""))
    ss_arch, ss_label = _lookup(SS_BASE_MODEL_VERSIONS, metadata.get("ss_base_model_version", ""))
    if kind == UNKNOWN and spec_kind:
        kind = spec_kind
    if kind == "lora" and "lycoris" in metadata.get("ss_network_module", "").lower():
        kind = "lycoris"
    for named_arch, named_label in ((spec_arch, spec_label), (ss_arch, ss_label)):
        if not named_arch:
            continue
        if architecture == UNKNOWN and kind not in NO_BASE_MODEL:
            architecture = named_arch
        if named_arch == architecture and named_label and not label:
            label = named_label
    if kind in NO_BASE_MODEL:
        return Detection(architecture, kind, "")
    if kind == "vae":
        architecture = _vae_name_hint(architecture, file_name)
    if architecture in ("sdxl", "sdxl_refiner"):
        label = _sdxl_family(metadata, kind) or label
    if not label:
        label = BASE_MODEL_LABELS.get(architecture, "")
    return Detection(architecture, kind, label)


def _from_modelspec(value: str) -> tuple[str, str, str]:
    base, _, adapter = value.strip().lower().partition("/")
    architecture, label = _lookup(MODELSPEC_ARCHITECTURES, base)
    return architecture, label, MODELSPEC_KINDS.get(adapter.strip(), "")


def _lookup(table: tuple[tuple[str, str, str], ...], value: str) -> tuple[str, str]:
    value = value.strip().lower()
    if value:
        for pattern, architecture, label in table:
            if re.match(pattern, value):
                return architecture, label
    return "", ""


def _sdxl_family(metadata: Mapping[str, str], kind: str) -> str:
    names = [metadata.get("ss_sd_model_name", "")]
    if kind in ("checkpoint", "diffusion_model"):
        names.append(metadata.get("modelspec.title", ""))
    text = " ".join(names).lower()
    for pattern, label in SDXL_FAMILY_NAMES:
        if re.search(pattern, text):
            return label
    return ""


def _vae_name_hint(architecture: str, file_name: str) -> str:
    # SD1, SD2 and SDXL VAEs have identical shapes, as do the Flux.1 and SD3
    # VAEs: InvokeAI falls back on the file name (REGEX_TO_BASE); so do we.
    name = file_name.lower()
    if architecture == "sd1" and "xl" in name:
        return "sdxl"
    if architecture == "sd1" and "sd2" in name:
        return "sd2"
    if architecture == "flux1" and "sd3" in name:
        return "sd3"
    return architecture
