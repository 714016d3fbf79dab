"""The rules every sidecar reader shares: decoding, size limits, coercion with warnings.

Tolerant by rule, never by ``except: pass``: each way a sidecar can be bad
(empty, too large, a byte order mark, not UTF-8, not JSON, ``NaN``, a wrong
type, a placeholder) has one rule here, and every rule that loses or changes
something says so in a warning that names the file.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

# A sidecar larger than this is not read at all (SwarmUI's own limits are an
# 8 MiB image and a 4 MiB description; a Civitai version object with every
# image's generation data stays well below).
MAX_SIDECAR_BYTES = 16 * 1024 * 1024
# Characters kept of a description or notes, and of any shorter text (a name,
# a base model, one tag or trigger word): the catalog stores these per model.
MAX_TEXT = 64 * 1024
MAX_SHORT = 512
# Items kept of one sidecar's list (tags, trigger words): Civitai and kohya
# lists can hold thousands of training tags, which are not trigger words.
MAX_ITEMS = 128

# Text values that tools write to mean "nothing here" (Civitai Helper's
# ``creator: "{}"``, civitai-browser-plus's ``modelId: "Model not found"``).
PLACEHOLDERS = frozenset({"", "{}", "[]", "null", "none", "undefined", "model not found"})
_PLACEHOLDER_LENGTH = max(map(len, PLACEHOLDERS))
# Base-model labels that say nothing (Civitai Helper skeletons, civitai-browser-plus).
UNKNOWN_BASE_MODELS = frozenset({"unknown", "other"})

# The hash kinds a sidecar may state, with their length in hex digits.
HASH_LENGTHS = {
    "sha256": 64,
    "tensor_sha256": 64,
    "blake3": 64,
    "autov1": 8,
    "autov2": 10,
    "autov3": 12,
    "crc32": 8,
}
_HEX = re.compile(r"[0-9a-f]+")
# A list some tool wrote as one comma-joined string (SwarmUI's tags, hand edits).
COMMAS = re.compile(r"\s*,\s*")


@dataclass
class Reading:
    """What one sidecar file says, normalised, with what went wrong reading it.

    ``facts`` holds the keys of ``file.sidecars`` this file gave (name,
    description, trigger_words, base_model, tags, nsfw, favorite,
    preferred_weight, notes, civitai) plus ``base_model_hint`` (a coarse
    family such as A1111's ``sd version``, used only when no source names a
    base model). ``hashes`` maps a hash kind to the lowercase values the file
    states for the model; ``thumbnails`` holds embedded preview images.
    """

    source: str
    file_name: str
    facts: dict[str, Any] = field(default_factory=dict)
    hashes: dict[str, set[str]] = field(default_factory=dict)
    thumbnails: list[bytes] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.file_name}: {message}")

    def put(self, key: str, value: Any) -> None:
        """Record a fact unless it is empty or an earlier key of the same file gave it."""
        if value is None or value == "" or value == [] or value == {}:
            return
        self.facts.setdefault(key, value)

    def extend(self, key: str, values: list[str]) -> None:
        """Append list items to a fact, dropping repeats without regard to case."""
        if values:
            known = self.facts.get(key)
            # ``values`` come from words(), already without repeats.
            self.facts[key] = unique_words([*known, *values]) if known else values

    def state_hash(self, kind: str, value: Any) -> None:
        """Remember a hash the sidecar states; any case, an optional ``0x`` prefix."""
        if type(value) is not str:
            if value is not None:
                self.warn(f"{kind} hash is {_a_type(value)}, not text; ignored")
            return
        text = value.strip().lower()
        if len(text) <= _PLACEHOLDER_LENGTH and text in PLACEHOLDERS:
            return
        if text.startswith("0x"):
            text = text[2:]
        if len(text) != HASH_LENGTHS[kind] or not _HEX.fullmatch(text):
            self.warn(f"{kind} hash {value[:80]!r} is not {HASH_LENGTHS[kind]} hex digits; ignored")
            return
        self.hashes.setdefault(kind, set()).add(text)

    # Coercion: each returns the value in the wanted type, or None with a
    # warning when it cannot be had (None for an absent value needs none).

    def text(self, value: Any, key: str, *, limit: int = MAX_SHORT) -> str | None:
        """A trimmed string; numbers become text, placeholders and blanks None."""
        if type(value) is str:  # the common case first: a scan reads thousands
            text = value.strip()
            if len(text) <= _PLACEHOLDER_LENGTH and text.lower() in PLACEHOLDERS:
                return None
            if len(text) > limit:
                self.warn(f"{key} is {len(text)} characters long; kept the first {limit}")
                text = text[:limit].rstrip()
            return text
        if value is None:
            return None
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            self.warn(f"{key} is {_a_type(value)}, not text; ignored")
            return None
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                self.warn(f"{key} is {_json_number(value)}; ignored")
                return None
            value = str(value)
        return self.text(value, key, limit=limit)

    def integer(self, value: Any, key: str) -> int | None:
        """An integer from a number or digits; placeholders (``"Model not found"``) None."""
        if value is None:
            return None
        if isinstance(value, bool):
            self.warn(f"{key} is a boolean, not a number; ignored")
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isfinite(value) and value.is_integer():
                return int(value)
            self.warn(f"{key} is {_json_number(value)}, not a whole number; ignored")
            return None
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in PLACEHOLDERS:
                return None
            if text.isascii() and text.isdigit():
                return int(text)
            self.warn(f"{key} is {text[:80]!r}, not a number; ignored")
            return None
        self.warn(f"{key} is {_a_type(value)}, not a number; ignored")
        return None

    def number(self, value: Any, key: str) -> float | None:
        """A finite float from a number or numeric text; ``NaN`` and infinities None."""
        if value is None:
            return None
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            self.warn(f"{key} is {_a_type(value)}, not a number; ignored")
            return None
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in PLACEHOLDERS:
                return None
            try:
                value = float(text)
            except ValueError:
                self.warn(f"{key} is {text[:80]!r}, not a number; ignored")
                return None
        number = float(value)
        if not math.isfinite(number):
            self.warn(f"{key} is {_json_number(number)}; ignored")
            return None
        return number

    def flag(self, value: Any, key: str) -> bool | None:
        """A boolean from true/false, 0/1 or their common spellings as text."""
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in ("true", "yes", "1"):
                return True
            if text in ("false", "no", "0"):
                return False
            if text in PLACEHOLDERS:
                return None
        self.warn(f"{key} is {_short_repr(value)}, not true or false; ignored")
        return None

    def words(self, value: Any, key: str, *, split: re.Pattern[str] | None = None) -> list[str]:
        """A list of trimmed strings from a list or, split by ``split``, a string.

        List items that are objects with a ``name`` (Civitai's newer tag
        objects) give that name; other non-text items are dropped with one
        warning. Repeats are dropped without regard to case.
        """
        if value is None:
            return []
        if isinstance(value, str):
            items: list[Any] = split.split(value) if split is not None else [value]
        elif isinstance(value, list):
            items = value
        else:
            self.warn(f"{key} is {_a_type(value)}, not a list; ignored")
            return []
        words, dropped, long = [], 0, 0
        for item in items:
            if type(item) is not str:
                if isinstance(item, dict):
                    item = item.get("name")
                if isinstance(item, (int, float)) and not isinstance(item, bool):
                    item = str(item) if math.isfinite(item) else None
                if not isinstance(item, str):
                    dropped += 1
                    continue
            text = item.strip()
            if len(text) <= _PLACEHOLDER_LENGTH and text.lower() in PLACEHOLDERS:
                continue
            if len(text) > MAX_SHORT:
                long += 1
                continue
            words.append(text)
        if dropped:
            self.warn(f"{key}: {dropped} item(s) that are not text ignored")
        if long:
            self.warn(f"{key}: {long} item(s) longer than {MAX_SHORT} characters ignored")
        words = unique_words(words)
        if len(words) > MAX_ITEMS:
            self.warn(f"{key} has {len(words)} items; kept the first {MAX_ITEMS}")
            words = words[:MAX_ITEMS]
        return words

    def base_model(self, value: Any, key: str) -> str | None:
        """A base-model label; ``Unknown`` and ``Other`` say nothing."""
        label = self.text(value, key, limit=64)
        if label is None or label.lower() in UNKNOWN_BASE_MODELS:
            return None
        return label

    def mapping(self, value: Any, key: str) -> dict:
        """An object, or {} (with a warning unless absent)."""
        if isinstance(value, dict):
            return value
        if value is not None and not (isinstance(value, str) and value.strip() in PLACEHOLDERS):
            self.warn(f"{key} is {_a_type(value)}, not an object; ignored")
        return {}


def unique_words(words: list[str]) -> list[str]:
    """``words`` in order without repeats, compared without regard to case."""
    seen: set[str] = set()
    kept = []
    for word in words:
        folded = word.casefold()
        if folded not in seen:
            seen.add(folded)
            kept.append(word)
    return kept


def sidecar_text(data: bytes, reading: Reading) -> str | None:
    """The text of a sidecar's bytes, or None (with a warning) when it is not read.

    Over MAX_SIDECAR_BYTES: skipped. A UTF-8 byte order mark is dropped (A1111
    fails on it); a UTF-16 one decodes as UTF-16 (Windows Notepad's
    "Unicode"); bytes that are not UTF-8 are read as Windows-1252, the
    codec Civitai Helper writes with on most Windows machines.
    """
    if len(data) > MAX_SIDECAR_BYTES:
        reading.warn(f"larger than {MAX_SIDECAR_BYTES // (1024 * 1024)} MiB; skipped")
        return None
    if data.startswith(codecs.BOM_UTF8):
        reading.warn("starts with a UTF-8 byte order mark; read without it")
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        reading.warn("is UTF-16 text; read as such")
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        reading.warn("is not UTF-8; read as Windows-1252")
        return data.decode("cp1252", errors="replace")


def sidecar_json(data: bytes, reading: Reading) -> dict | None:
    """The JSON object in a sidecar's bytes, or None (with a warning) when there is none.

    ``NaN`` and ``Infinity`` are accepted as Python's json module writes them;
    the coercion helpers then drop them where a number is wanted. An empty
    object is a placeholder (Civitai Helper writes ``{}`` for a model Civitai
    does not know): None without a warning.
    """
    text = sidecar_text(data, reading)
    if text is None:
        return None
    if not text.strip():
        reading.warn("is empty")
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        reading.warn(f"not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})")
        return None
    except RecursionError:
        reading.warn("not JSON this service reads (nested too deeply)")
        return None
    if not isinstance(value, dict):
        reading.warn(f"holds a JSON {_type_name(value)}, not an object")
        return None
    return value or None


def _type_name(value: Any) -> str:
    return {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "list",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _a_type(value: Any) -> str:
    """ "a list", "an object", ... for warnings."""
    name = _type_name(value)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _json_number(value: float) -> str:
    """A number as JSON spells it (``NaN``, ``Infinity``), for warnings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _short_repr(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _a_type(value)
    return repr(value)[:80]
