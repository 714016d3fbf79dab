"""Fixtures shared by every app's tests."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from rest_framework.test import APIClient

# The S3 test server and its fixtures (s3_endpoint, s3_bucket, s3_media).
pytest_plugins = ["imaging.tests.s3"]


@pytest.fixture(autouse=True)
def media_root(request, settings, tmp_path):
    """Every test writes media into its own temporary folder, or with
    TEST_MEDIA_STORAGE=s3 into a bucket of its own on the S3 test server."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MODEL_ROOTS = {}
    if os.environ.get("TEST_MEDIA_STORAGE", "").strip().lower() == "s3":
        request.getfixturevalue("s3_media")
    return settings.MEDIA_ROOT


@pytest.fixture
def api() -> APIClient:
    return APIClient(HTTP_HOST="localhost")


def png_bytes(size: tuple[int, int] = (64, 48), mode: str = "RGB", color=(200, 30, 30)) -> bytes:
    """A small picture made in memory."""
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def make_model(db):
    """Create a catalog model: make_model("a" * 64, name=..., type=..., tags=[...])."""
    from catalog.models import CatalogModel

    counter = iter(range(1, 1_000_000))

    def factory(sha256: str | None = None, *, tags=(), **fields) -> CatalogModel:
        number = next(counter)
        sha = sha256 or f"{number:064x}"
        defaults = {
            "name": f"model {number}",
            "type": "loras",
            "path": f"/models/loras/model_{number}.safetensors",
            "size_bytes": 1000 + number,
            "created_at": 1_700_000_000_000 + number,
        }
        defaults.update(fields)
        model = CatalogModel.objects.create(sha256=sha, **defaults)
        if tags:
            model.tags.set(tags)
        return model

    return factory
