"""``<base>.cm-info.json``: StabilityMatrix's connected-model info (PascalCase keys)."""

from __future__ import annotations

from catalog.fileinfo.sidecars.civitai import civitai_link
from catalog.fileinfo.sidecars.common import COMMAS, MAX_TEXT, Reading, sidecar_json

SOURCE = "cm-info.json"

# ``Source`` is written as the enum's number: 0 Civitai, 1 OpenModelDb,
# 2 CivArchive (a mirror keeping Civitai's ids), 3 Other.
_CIVITAI_SOURCES = (None, 0, 2, "civitai", "civarchive")


def read(data: bytes, *, file_name: str = "model.cm-info.json") -> Reading:
    """The facts of a ``.cm-info.json`` file.

    ``UserTitle`` (the name a person gave) comes before ``ModelName``.
    ``ThumbnailImageUrl`` is an address or another machine's path and is
    never followed. A file made by hand in StabilityMatrix may state only a
    BLAKE3 hash, which this service does not compute.
    """
    reading = Reading(SOURCE, file_name)
    info = sidecar_json(data, reading)
    if info is None:
        return reading
    reading.put("name", reading.text(info.get("UserTitle"), "UserTitle"))
    reading.put("name", reading.text(info.get("ModelName"), "ModelName"))
    for key in ("ModelDescription", "VersionDescription"):
        reading.put("description", reading.text(info.get(key), key, limit=MAX_TEXT))
    reading.extend("trigger_words", reading.words(info.get("TrainedWords"), "TrainedWords"))
    reading.put("base_model", reading.base_model(info.get("BaseModel"), "BaseModel"))
    reading.extend("tags", reading.words(info.get("Tags"), "Tags", split=COMMAS))
    reading.put("nsfw", reading.flag(info.get("Nsfw"), "Nsfw"))
    source = info.get("Source")
    if (source.strip().lower() if isinstance(source, str) else source) in _CIVITAI_SOURCES:
        reading.put(
            "civitai",
            civitai_link(
                reading.integer(info.get("ModelId"), "ModelId"),
                reading.integer(info.get("VersionId"), "VersionId"),
            ),
        )
    hashes = reading.mapping(info.get("Hashes"), "Hashes")
    reading.state_hash("sha256", hashes.get("SHA256"))
    reading.state_hash("blake3", hashes.get("BLAKE3"))
    reading.state_hash("crc32", hashes.get("CRC32"))
    return reading
