from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from imaging.services import sample_image_add
from imaging.tests.pictures import picture


@pytest.fixture
def add_image():
    """add_image(model, size=..., color=...) -> a stored SampleImage."""

    def factory(model, size=(64, 48), color=(200, 30, 30), **kwargs):
        content = kwargs.pop("content", None) or picture(size, color=color)
        return sample_image_add(model=model, content=content, file_name="x.png", **kwargs)

    return factory


def stored_files() -> set[str]:
    """Every file name in media storage, relative to its root."""

    def walk(folder: str) -> set[str]:
        directories, files = default_storage.listdir(folder)
        names = {f"{folder}/{name}".lstrip("/") for name in files}
        for directory in directories:
            names |= walk(f"{folder}/{directory}".lstrip("/"))
        return names

    try:
        return walk("")
    except FileNotFoundError:  # a media folder not created yet (in a bucket: none)
        return set()
