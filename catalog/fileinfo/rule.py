"""One row of the detection tables: a tensor-name pattern, a shape test, a result.

The tables themselves are in ``rules.py``; ``detect.py`` applies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

UNKNOWN = "unknown"

COMFY = "ComfyUI model_detection.py"
INVOKE = "InvokeAI model probe"
KOHYA = "kohya sd-scripts"
SPANDREL = "spandrel"
LYCORIS = "LyCORIS (InvokeAI lora.py suffixes)"

# Where a denoiser's keys may sit: ComfyUI's unet_prefix_from_state_dict finds
# "model.diffusion_model." in full checkpoints, "model." (AuraFlow) or none.
_P = r"(?:model\.diffusion_model\.|diffusion_model\.|model\.)?"


@dataclass(frozen=True)
class Rule:
    """One row: a tensor name pattern, a shape test, and what a match means."""

    # Regular expression over a whole tensor name; "{P}" stands for an optional
    # denoiser prefix (model.diffusion_model. and the like).
    key: str
    # A kind (in KIND_RULES) or an architecture id (in the per-kind tables).
    result: str
    # Shape test on the matched tensor: shape[dim] is one of ``sizes`` ...
    dim: int | None = None
    sizes: tuple[int, ...] = ()
    # ... and the tensor has ``ndim`` dimensions.
    ndim: int | None = None
    # Another tensor that must be present too (a pattern like ``key``).
    also: str = ""
    # The base-model label this row implies; "" means the architecture's default.
    base_model: str = ""
    source: str = ""
    # Compiled forms: the name pattern (and ``also``) as a whole-name match.
    pattern: re.Pattern = field(init=False, repr=False, compare=False)
    also_pattern: re.Pattern | None = field(init=False, repr=False, compare=False)
    # Text every matching name contains (one of these spellings): names are
    # found by substring search first, far faster than running the pattern
    # over every name.
    literals: tuple[str, ...] = field(init=False, repr=False, compare=False)
    also_literals: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # The same with every digit written "#": searched in the file's skeleton
    # (its names with digits masked, each once), a text far shorter.
    skeletons: tuple[str, ...] = field(init=False, repr=False, compare=False)
    also_skeletons: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pattern", _compile(self.key))
        object.__setattr__(self, "literals", required_literals(self.key))
        object.__setattr__(self, "also_pattern", _compile(self.also) if self.also else None)
        object.__setattr__(self, "also_literals", required_literals(self.also))
        object.__setattr__(self, "skeletons", tuple(map(mask_digits, self.literals)))
        object.__setattr__(self, "also_skeletons", tuple(map(mask_digits, self.also_literals)))

    def shape_test(self) -> str:
        """The shape test in words, for the documentation table."""
        parts = []
        if self.dim is not None and self.sizes:
            parts.append(f"shape[{self.dim}] in {', '.join(map(str, self.sizes))}")
        if self.ndim is not None:
            parts.append(f"{self.ndim}-D")
        if self.also:
            parts.append(f"and a tensor `{self.also}`")
        return "; ".join(parts)


_DIGITS = str.maketrans("0123456789", "##########")


def mask_digits(text: str) -> str:
    """``text`` with every digit written "#" (a substring stays a substring)."""
    return text.translate(_DIGITS)


def required_literals(key: str) -> tuple[str, ...]:
    """Spellings of a piece of text that every name matching ``key`` contains.

    The pattern is read as a sequence of plain characters, groups of plain
    alternatives (``(?:double|single)``, spelled out) and anything else (which
    breaks the run). The longest run wins; () when nothing is certain.
    """
    key = key.replace("{P}", "")
    if _top_level_alternation(key):
        return ()
    runs: list[list[str]] = [[""]]
    i = 0
    while i < len(key):
        char, options = key[i], None
        if char == "\\" and i + 1 < len(key):
            options = [key[i + 1]] if key[i + 1] in "._-/" else None
            i += 2
        elif char == "(":
            end = _group_end(key, i)
            options = _plain_alternatives(key[i + 1 : end - 1])
            i = end
        elif char == "[":
            i = key.index("]", i + 1) + 1
        elif char in ".^$|)*+?{}":
            i += 1
        else:
            options = [char]
            i += 1
        if options is not None and i < len(key) and key[i] in "?*{":
            options = None  # optional: not certain to be there
        if options is None or len(runs[-1]) * len(options) > 8:
            runs.append([""])
        else:
            runs[-1] = [head + option for head in runs[-1] for option in options]
    best = max(runs, key=lambda run: min(len(text) for text in run))
    return tuple(best) if best[0] else ()


def _plain_alternatives(body: str) -> list[str] | None:
    """``?:a|b`` -> ["a", "b"] when every alternative is plain text, else None."""
    body = body.removeprefix("?:")
    options = []
    for option in body.split("|"):
        plain = re.sub(r"\\([._-])", r"\1", option)
        if not option or re.search(r"[\\()\[\]{}.*+?^$]", plain):
            return None
        options.append(plain)
    return options


def _top_level_alternation(key: str) -> bool:
    depth, i = 0, 0
    while i < len(key):
        if key[i] == "\\":
            i += 2
            continue
        if key[i] in "([":
            depth += 1
        elif key[i] in ")]":
            depth -= 1
        elif key[i] == "|" and depth == 0:
            return True
        i += 1
    return False


def _group_end(key: str, start: int) -> int:
    """The index just after the parenthesis that closes the group at ``start``."""
    depth, i = 0, start
    while i < len(key):
        if key[i] == "\\":
            i += 2
            continue
        if key[i] == "(":
            depth += 1
        elif key[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _compile(key: str) -> re.Pattern:
    return re.compile(key.replace("{P}", _P))
