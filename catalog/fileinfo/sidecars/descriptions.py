"""Description files: ``<base>.md`` (YAML front matter + Markdown), ``<base>.txt``,
``<base>.description.txt``.

ComfyUI-Model-Manager writes ``.md`` with a front matter holding
``modelPage`` (the Civitai page), ``baseModel`` and ``hashes`` (Civitai's
map), then a ``# Trigger Words`` section; AUTOMATIC1111 shows the first of
``.txt`` and ``.description.txt`` as the description.
"""

from __future__ import annotations

import re

import yaml

from catalog.fileinfo.sidecars.civitai import civitai_link_in_text
from catalog.fileinfo.sidecars.common import MAX_TEXT, Reading, sidecar_text

MARKDOWN = "md"
TEXT = "txt"
DESCRIPTION_TEXT = "description.txt"

_FRONT_MATTER = re.compile(
    r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL
)
_TRIGGER_SECTION = re.compile(
    r"^#{1,6}[ \t]*trigger words[ \t]*#*[ \t]*\r?\n(.*?)(?=^#{1,6}[ \t]|\Z)",
    re.IGNORECASE | re.MULTILINE | re.DOTALL,
)
_COMMAS = re.compile(r"\s*[,\n]\s*")
_HASHES = {
    "SHA256": "sha256",
    "AutoV1": "autov1",
    "AutoV2": "autov2",
    "AutoV3": "autov3",
    "BLAKE3": "blake3",
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_markdown(data: bytes, *, file_name: str = "model.md") -> Reading:
    """The facts of a ``.md`` file: its body (without the front matter) is the description.

    The front matter is YAML read with the safe loader; addresses in it
    (``modelPage``, ``preview``) are only parsed for Civitai ids, never visited.
    """
    reading = Reading(MARKDOWN, file_name)
    text = sidecar_text(data, reading)
    if text is None:
        return reading
    if not text.strip():
        reading.warn("is empty")
        return reading
    body = text
    match = _FRONT_MATTER.match(text)
    if match is not None:
        body = text[match.end() :]
        _front_matter(match.group(1) or "", reading)
    section = _TRIGGER_SECTION.search(body)
    if section is not None:
        words = section.group(1)
        reading.extend("trigger_words", reading.words(words, "Trigger Words", split=_COMMAS))
    reading.put("description", reading.text(body, "description", limit=MAX_TEXT))
    return reading


def _front_matter(source: str, reading: Reading) -> None:
    try:
        front = yaml.load(source, Loader=_Loader)  # noqa: S506 - the safe loader
    except yaml.YAMLError:
        reading.warn("front matter is not YAML; only the body was read")
        return
    if front is None:
        return
    if not isinstance(front, dict):
        reading.warn("front matter is not a mapping; ignored")
        return
    page = front.get("modelPage")
    if isinstance(page, str):
        reading.put("civitai", civitai_link_in_text(page))
    reading.put("base_model", reading.base_model(front.get("baseModel"), "baseModel"))
    hashes = reading.mapping(front.get("hashes"), "hashes")
    for name, kind in _HASHES.items():
        value = hashes.get(name)
        reading.state_hash(kind, value if value is None else str(value))


def read_text(data: bytes, *, file_name: str = "model.txt") -> Reading:
    """The facts of a ``.txt`` or ``.description.txt`` file: its text is the description."""
    source = DESCRIPTION_TEXT if file_name.lower().endswith(".description.txt") else TEXT
    reading = Reading(source, file_name)
    text = sidecar_text(data, reading)
    if text is not None and not text.strip():
        reading.warn("is empty")
    elif text is not None:
        reading.put("description", reading.text(text, "description", limit=MAX_TEXT))
    return reading
