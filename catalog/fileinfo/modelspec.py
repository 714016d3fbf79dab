"""What trainers write in a header's metadata: modelspec keys and kohya's ``ss_*`` keys.

- ``modelspec.*``: the Stability-AI ModelSpec standard (title, author,
  architecture, trigger_phrase, thumbnail, ...). kohya sd-scripts writes it
  too (library/sai_model_spec.py).
- ``ss_*``: kohya sd-scripts' training record (train_network.py): network
  module, dimension, alpha, epochs, steps, resolution, and ``ss_tag_frequency``
  (JSON: dataset -> tag -> count).

Every value in a safetensors ``__metadata__`` is a string; numbers are
turned back into numbers here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from catalog.fileinfo.readers import JSON_ERRORS, json_loads

PREFIX = "modelspec."
THUMBNAIL_KEY = "modelspec.thumbnail"
TOP_TAGS = 20
# Bounds on what is copied into the catalog record, whatever the header holds.
MAX_TEXT = 64 * 1024
MAX_SHORT = 512
MAX_KEYS = 64
MAX_TRIGGER_WORDS = 128

# ``training`` keys and the ss_* keys they come from, in order of preference.
TRAINING_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("network_module", ("ss_network_module",)),
    ("network_dim", ("ss_network_dim",)),
    ("network_alpha", ("ss_network_alpha",)),
    # ss_epoch is the epoch the file was saved at; ss_num_epochs the planned total.
    ("epochs", ("ss_epoch", "ss_num_epochs")),
    ("steps", ("ss_steps", "ss_max_train_steps")),
    ("resolution", ("ss_resolution",)),
    ("output_name", ("ss_output_name",)),
    ("base_model_version", ("ss_base_model_version",)),
    ("sd_model_name", ("ss_sd_model_name",)),
    ("learning_rate", ("ss_learning_rate",)),
    ("unet_lr", ("ss_unet_lr",)),
    ("text_encoder_lr", ("ss_text_encoder_lr",)),
    ("optimizer", ("ss_optimizer",)),
    ("lr_scheduler", ("ss_lr_scheduler",)),
    ("mixed_precision", ("ss_mixed_precision",)),
    ("clip_skip", ("ss_clip_skip",)),
    ("num_train_images", ("ss_num_train_images",)),
    ("num_reg_images", ("ss_num_reg_images",)),
    ("batch_size", ("ss_total_batch_size", "ss_batch_size_per_device")),
    ("noise_offset", ("ss_noise_offset",)),
    ("seed", ("ss_seed",)),
    ("training_started_at", ("ss_training_started_at",)),
    ("training_finished_at", ("ss_training_finished_at",)),
    ("training_comment", ("ss_training_comment",)),
)
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOTHING = frozenset({"", "none", "null", "nan"})
_RESOLUTION = re.compile(r"^\(?\s*([0-9]+)\s*[,x]\s*([0-9]+)\s*\)?$")


def modelspec_of(metadata: Mapping[str, str]) -> dict[str, str]:
    """The ``modelspec.*`` keys without their prefix, except the thumbnail."""
    found: dict[str, str] = {}
    for key, value in metadata.items():
        if key.startswith(PREFIX) and key != THUMBNAIL_KEY and len(found) < MAX_KEYS:
            found[key[len(PREFIX) :][:MAX_SHORT]] = value[:MAX_TEXT]
    return found


def trigger_words_of(metadata: Mapping[str, str]) -> list[str]:
    """modelspec.trigger_phrase split on commas, trimmed, without repeats."""
    words: list[str] = []
    for part in metadata.get("modelspec.trigger_phrase", "").split(","):
        word = " ".join(part.split())[:MAX_SHORT]
        if word and word not in words and len(words) < MAX_TRIGGER_WORDS:
            words.append(word)
    return words


def training_of(metadata: Mapping[str, str]) -> dict[str, Any]:
    """The ``training`` summary from kohya's ss_* keys; absent keys are left out."""
    training: dict[str, Any] = {}
    if not any(key.startswith("ss_") for key in metadata):
        return training  # no kohya record (most files): nothing to look up
    for name, sources in TRAINING_KEYS:
        for source in sources:
            value = _value(metadata.get(source))
            if value is not None:
                training[name] = _resolution(value) if name == "resolution" else value
                break
    top = top_tags_of(metadata.get("ss_tag_frequency", ""))
    if top:
        training["top_tags"] = top
    return training


def top_tags_of(tag_frequency: str) -> list[list[Any]]:
    """The most frequent tags of ``ss_tag_frequency`` summed over its datasets:
    ``[[tag, count], ...]``, most frequent first (then by tag), at most 20."""
    if not tag_frequency:
        return []
    try:
        datasets = json_loads(tag_frequency)
    except JSON_ERRORS:
        return []
    if not isinstance(datasets, dict):
        return []
    totals: dict[str, int] = {}
    get = totals.get
    for tags in datasets.values():
        if not isinstance(tags, dict):
            continue
        for tag, count in tags.items():
            # kohya writes " 1girl" for "1girl": strip() merges them, in C.
            tag = tag.strip()
            if tag and type(count) in (int, float):
                totals[tag] = get(tag, 0) + int(count)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [[" ".join(tag.split())[:MAX_SHORT], count] for tag, count in ranked[:TOP_TAGS]]


def thumbnail_of(metadata: Mapping[str, str]) -> str:
    """The embedded thumbnail (a ``data:image/...;base64,`` URI), or ""."""
    value = metadata.get(THUMBNAIL_KEY, "").strip()
    return value if value.startswith("data:image/") else ""


def _value(raw: str | None) -> Any:
    """A metadata string as the value it spells: an int, a float, a bool or text."""
    if raw is None:
        return None
    text = raw.strip()
    if text.lower() in _NOTHING:
        return None
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        number = float(text)
        # 16.0 is written by kohya for an alpha of 16: show it as 16.
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if text in ("True", "False"):
        return text == "True"
    return text[:MAX_TEXT]


def _resolution(value: Any) -> Any:
    # kohya writes "(1024, 1024)" or "1024,1024"; one spelling: "1024,1024".
    if isinstance(value, str):
        match = _RESOLUTION.match(value)
        if match:
            return f"{match.group(1)},{match.group(2)}"
    return value
