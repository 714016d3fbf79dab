"""``<base>.metadata.json``: ComfyUI-Lora-Manager's record of a model.

Its own keys are snake_case (``model_name``, ``base_model``, ``tags``,
``notes``, ``favorite``, ``sha256`` in lower case, ``usage_tips`` as a JSON
string); ``civitai`` holds the whole Civitai model-version object.
"""

from __future__ import annotations

import json

from catalog.fileinfo.sidecars.civitai import version_facts
from catalog.fileinfo.sidecars.common import COMMAS, MAX_TEXT, Reading, sidecar_json

SOURCE = "metadata.json"


def read(data: bytes, *, file_name: str = "model.metadata.json") -> Reading:
    """The facts of a ``.metadata.json`` file: its own keys first, then its ``civitai`` object's.

    ``preview_url`` (another machine's absolute path) is never followed; a
    ``sha256`` of ``""`` (not hashed yet) states nothing.
    """
    reading = Reading(SOURCE, file_name)
    meta = sidecar_json(data, reading)
    if meta is None:
        return reading
    reading.put("name", reading.text(meta.get("model_name"), "model_name"))
    reading.put(
        "description",
        reading.text(meta.get("modelDescription"), "modelDescription", limit=MAX_TEXT),
    )
    reading.put("notes", reading.text(meta.get("notes"), "notes", limit=MAX_TEXT))
    reading.extend("tags", reading.words(meta.get("tags"), "tags", split=COMMAS))
    reading.put("favorite", reading.flag(meta.get("favorite"), "favorite"))
    reading.put("base_model", reading.base_model(meta.get("base_model"), "base_model"))
    reading.extend("trigger_words", reading.words(meta.get("trainedWords"), "trainedWords"))
    reading.put("preferred_weight", _strength(meta.get("usage_tips"), reading))
    reading.state_hash("sha256", meta.get("sha256"))
    reading.state_hash("autov3", meta.get("autov3"))
    civitai = reading.mapping(meta.get("civitai"), "civitai")
    if civitai:
        version_facts(civitai, reading, key="civitai")
    return reading


def _strength(value: object, reading: Reading) -> float | None:
    """``usage_tips.strength``: ``usage_tips`` is JSON inside a string (or, by hand, an object)."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError:
            reading.warn("usage_tips is not JSON; ignored")
            return None
    tips = reading.mapping(value, "usage_tips")
    strength = reading.number(tips.get("strength"), "usage_tips.strength")
    return strength if strength is not None and strength > 0 else None
