"""Civitai facts several sidecars share: links, and the model-version object.

``.civitai.info`` is a Civitai model-version object; LoRA Manager keeps the
same object under ``civitai``. Links are built from ids, never fetched.
"""

from __future__ import annotations

import re
from typing import Any

from catalog.fileinfo.sidecars.common import COMMAS, MAX_TEXT, Reading

# A Civitai model page in text (SwarmUI's description, a Model-Manager front
# matter): the ids are read from it; the address itself is never visited.
_PAGE = re.compile(r"https?://(?:www\.)?civitai\.(?:com|green)/models/(\d+)([^\s\"'<>()\[\]]*)")
_VERSION = re.compile(r"[?&;]modelVersionId=(\d+)")

# Civitai's names for the hashes in ``files[].hashes``, and ours.
_FILE_HASHES = {
    "SHA256": "sha256",
    "AutoV1": "autov1",
    "AutoV2": "autov2",
    "AutoV3": "autov3",
    "BLAKE3": "blake3",
    "CRC32": "crc32",
}


def civitai_link(model_id: int | None, version_id: int | None) -> dict[str, Any] | None:
    """``{"model_id", "version_id", "url"}`` for the ids that are known (positive)."""
    model_id = model_id if model_id is not None and model_id > 0 else None
    version_id = version_id if version_id is not None and version_id > 0 else None
    if model_id is None and version_id is None:
        return None
    link: dict[str, Any] = {}
    if model_id is not None:
        link["model_id"] = model_id
    if version_id is not None:
        link["version_id"] = version_id
    if model_id is not None:
        url = f"https://civitai.com/models/{model_id}"
        link["url"] = url + (f"?modelVersionId={version_id}" if version_id is not None else "")
    return link


def civitai_link_in_text(text: str) -> dict[str, Any] | None:
    """The link of the first Civitai model page named in ``text``."""
    match = _PAGE.search(text)
    if match is None:
        return None
    version = _VERSION.search(match.group(2))
    return civitai_link(int(match.group(1)), int(version.group(1)) if version else None)


def version_facts(version: dict, reading: Reading, *, key: str = "") -> None:
    """Put the facts of a Civitai model-version object into ``reading``.

    Name and tags come from the parent ``model`` object (the version's own
    ``name`` is a label such as "v2.0"); the description is the model's when
    present, else the version's (both HTML as Civitai serves them).
    ``trainedWords`` entries are kept whole. Every ``files[].hashes`` entry
    is stated, so the sidecar matches a file if any of its files is ours.
    """
    prefix = f"{key}." if key else ""
    model = reading.mapping(version.get("model"), f"{prefix}model")
    reading.put("name", reading.text(model.get("name"), f"{prefix}model.name"))
    # The model's description says what it is; the version's often only what changed.
    for value, name in (
        (model.get("description"), "model.description"),
        (version.get("description"), "description"),
    ):
        reading.put("description", reading.text(value, prefix + name, limit=MAX_TEXT))
    reading.extend(
        "trigger_words", reading.words(version.get("trainedWords"), f"{prefix}trainedWords")
    )
    reading.put("base_model", reading.base_model(version.get("baseModel"), f"{prefix}baseModel"))
    reading.extend("tags", reading.words(model.get("tags"), f"{prefix}model.tags", split=COMMAS))
    reading.put("nsfw", reading.flag(model.get("nsfw"), f"{prefix}model.nsfw"))
    reading.put(
        "civitai",
        civitai_link(
            reading.integer(version.get("modelId"), f"{prefix}modelId"),
            reading.integer(version.get("id"), f"{prefix}id"),
        ),
    )
    files = version.get("files")
    if files is None:
        return
    if not isinstance(files, list):
        reading.warn(f"{prefix}files is not a list; its hashes were not checked")
        return
    for entry in files:
        if not isinstance(entry, dict):
            continue
        hashes = reading.mapping(entry.get("hashes"), f"{prefix}files[].hashes")
        for name, kind in _FILE_HASHES.items():
            reading.state_hash(kind, hashes.get(name))
