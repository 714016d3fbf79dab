"""``<base>.swarm.json``: SwarmUI's model metadata (ModelSpec keys with a ``modelspec.`` prefix)."""

from __future__ import annotations

import base64
import binascii
import re

from catalog.fileinfo.sidecars.civitai import civitai_link_in_text
from catalog.fileinfo.sidecars.common import COMMAS, MAX_TEXT, Reading, sidecar_json

SOURCE = "swarm.json"

# SwarmUI's own cap on an embedded image.
MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024
# SwarmUI's downloader joins trigger phrases with "; ", people with ", ".
_PHRASES = re.compile(r"\s*(?:[,;\n]|\|\|)\s*")
_DATA_URI = re.compile(r"data:image/[\w.+-]+;base64,", re.IGNORECASE)


def read(data: bytes, *, file_name: str = "model.swarm.json") -> Reading:
    """The facts of a ``.swarm.json`` file.

    ``modelspec.hash_sha256`` is ``0x`` + the SHA-256 of the tensor data (not
    of the file), so it is stated as ``tensor_sha256``. The Civitai ids of a
    file SwarmUI downloaded appear only as a link inside the description.
    ``modelspec.thumbnail`` (or ``preview_image``) data URIs are decoded into
    ``thumbnails``; nothing is fetched.
    """
    reading = Reading(SOURCE, file_name)
    raw = sidecar_json(data, reading)
    if raw is None:
        return reading
    spec = {
        key.removeprefix("modelspec."): value
        for key, value in raw.items()
        if key.startswith("modelspec.")
    }
    nested = raw.get("modelspec")
    if isinstance(nested, dict):  # the same keys as one object, as some scripts write them
        spec = {**nested, **spec}
    reading.put("name", reading.text(spec.get("title"), "modelspec.title"))
    description = reading.text(spec.get("description"), "modelspec.description", limit=MAX_TEXT)
    reading.put("description", description)
    if description:
        reading.put("civitai", civitai_link_in_text(description))
    phrase = spec.get("trigger_phrase")
    reading.extend(
        "trigger_words", reading.words(phrase, "modelspec.trigger_phrase", split=_PHRASES)
    )
    reading.extend("tags", reading.words(spec.get("tags"), "modelspec.tags", split=COMMAS))
    weight = reading.number(spec.get("lora_default_weight"), "modelspec.lora_default_weight")
    if weight is not None and weight > 0:
        reading.put("preferred_weight", weight)
    reading.state_hash("tensor_sha256", spec.get("hash_sha256"))
    for key in ("thumbnail", "preview_image"):
        image = _data_uri(spec.get(key), f"modelspec.{key}", reading)
        if image is not None:
            reading.thumbnails.append(image)
            break
    return reading


def _data_uri(value: object, key: str, reading: Reading) -> bytes | None:
    """The bytes of a ``data:image/...;base64,`` URI; anything else (an address) is ignored."""
    if not isinstance(value, str) or not value.strip():
        return None
    match = _DATA_URI.match(value.strip())
    if match is None:
        reading.warn(f"{key} is not a data:image base64 URI; ignored")
        return None
    encoded = "".join(value.strip()[match.end() :].split())
    if len(encoded) * 3 // 4 > MAX_THUMBNAIL_BYTES:
        reading.warn(f"{key} is larger than {MAX_THUMBNAIL_BYTES // (1024 * 1024)} MiB; ignored")
        return None
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        reading.warn(f"{key} is not valid base64; ignored")
        return None
