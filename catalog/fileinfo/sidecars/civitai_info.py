"""``<base>.civitai.info``: Civitai Helper's copy of the Civitai model-version object."""

from __future__ import annotations

from catalog.fileinfo.sidecars.civitai import version_facts
from catalog.fileinfo.sidecars.common import Reading, sidecar_json

SOURCE = "civitai.info"


def read(data: bytes, *, file_name: str = "model.civitai.info") -> Reading:
    """The facts of a ``.civitai.info`` file.

    Placeholders give nothing: ``{}`` (butaixianran's fork, for a model
    Civitai does not know) and a skeleton with ``"id": ""`` (zixaphir's
    fork; its ``trainedWords`` are the training tags, not trigger words).
    """
    reading = Reading(SOURCE, file_name)
    version = sidecar_json(data, reading)
    if version is None or version.get("id") in (None, "") or version.get("skeleton_file") is True:
        return reading
    version_facts(version, reading)
    return reading
