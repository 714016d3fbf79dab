"""``<base>.json``: AUTOMATIC1111/Forge user metadata, with civitai-browser-plus's keys.

A1111 writes ``description``, ``notes``, ``activation text``, ``preferred
weight``, ``sd version`` (and Forge ``sd_version_str``); civitai-browser-plus
adds ``modelId``, ``modelVersionId`` and ``sha256`` (upper case), the ids
being ``"Model not found"`` when Civitai did not know the file.
"""

from __future__ import annotations

import re

from catalog.fileinfo.sidecars.civitai import civitai_link
from catalog.fileinfo.sidecars.common import MAX_TEXT, Reading, sidecar_json

SOURCE = "json"

# zixaphir's Civitai Helper joins words with " || " only when a word itself
# holds a comma, so such a text is split on "||" alone.
_BARS = re.compile(r"\s*\|\|\s*")
_COMMAS = re.compile(r"\s*[,\n]\s*")

# ``sd version`` is a coarse family, not a model site's label: it is a hint
# used only when no sidecar names a base model (``base_model_hint``).
_SD_VERSIONS = {"sd1": "SD 1.5", "sd2": "SD 2.1", "sdxl": "SDXL 1.0", "sd3": "SD 3"}


def read(data: bytes, *, file_name: str = "model.json") -> Reading:
    """The facts of an A1111 ``.json`` file.

    ``notes`` written by zixaphir's Civitai Helper (recognised by its
    ``extensions.sd_civitai_helper`` block) hold Civitai's version text, not a
    person's notes, and are left out. A ``preferred weight`` of 0 means "the
    default" and is left out.
    """
    reading = Reading(SOURCE, file_name)
    meta = sidecar_json(data, reading)
    if meta is None:
        return reading
    reading.put("description", reading.text(meta.get("description"), "description", limit=MAX_TEXT))
    extensions = meta.get("extensions")
    machine_notes = isinstance(extensions, dict) and "sd_civitai_helper" in extensions
    if not machine_notes:
        reading.put("notes", reading.text(meta.get("notes"), "notes", limit=MAX_TEXT))
    activation = meta.get("activation text")
    split = _BARS if isinstance(activation, str) and "||" in activation else _COMMAS
    reading.extend("trigger_words", reading.words(activation, "activation text", split=split))
    weight = reading.number(meta.get("preferred weight"), "preferred weight")
    if weight is not None and weight > 0:
        reading.put("preferred_weight", weight)
    for key in ("sd version", "sd_version_str"):
        version = reading.text(meta.get(key), key)
        if version is not None:
            reading.put(
                "base_model_hint", _SD_VERSIONS.get(version.lower().removeprefix("sdversion."))
            )
    reading.put(
        "civitai",
        civitai_link(
            reading.integer(meta.get("modelId"), "modelId"),
            reading.integer(meta.get("modelVersionId"), "modelVersionId"),
        ),
    )
    reading.state_hash("sha256", meta.get("sha256"))
    return reading
