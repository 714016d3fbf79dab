"""Fixtures for the hardening tests: access modes, API tokens, a populated service."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from catalog.models import CatalogModel
from config.tokens import api_token_issue
from imaging.models import SampleImage
from imaging.services import sample_image_add
from imaging.tests.pictures import picture
from migration_app.models import PendingImage, PendingModel
from migration_app.services.pending import pending_image_add
from tags.models import Tag

MODEL_SHA = "a" * 64
# Planted outside the media folder: no response may ever contain it.
MARKER = b"HARDENING-SECRET-7f3a"


def database_state() -> dict:
    """Every row the API writes, to compare before and after a refused request."""
    return {
        "models": list(CatalogModel.objects.order_by("pk").values()),
        "model_tags": sorted(
            CatalogModel.tags.through.objects.values_list("catalogmodel_id", "tag_id")
        ),
        "tags": list(Tag.objects.order_by("pk").values_list("pk", "name")),
        "images": list(SampleImage.objects.order_by("pk").values_list("pk", "model_id", "seq")),
        "pending": list(PendingModel.objects.order_by("pk").values()),
        "pending_images": list(PendingImage.objects.order_by("pk").values_list("pk", "file_name")),
    }


@dataclass
class World:
    root: Path
    media: Path
    outside: Path
    model: CatalogModel
    pending: PendingModel
    pending_image: str


@pytest.fixture
def world(tmp_path, settings, make_model) -> World:
    """A service holding data, with secrets planted next to and above its media.

    The media folder sits at <tmp>/srv/data/media, so "../" and "../../" from
    it land on the planted files; a model root with one pending model file is
    configured for scans and promotion.
    """
    media = tmp_path / "srv" / "data" / "media"
    settings.MEDIA_ROOT = media
    outside = tmp_path / "outside"
    outside.mkdir()
    media.mkdir(parents=True)
    for folder in (tmp_path, tmp_path / "srv", tmp_path / "srv" / "data", outside):
        (folder / "secret.txt").write_bytes(MARKER)
        (folder / "db.sqlite3").write_bytes(MARKER * 10)
        (folder / "secret.webp").write_bytes(MARKER)
    loras = tmp_path / "models" / "loras"
    loras.mkdir(parents=True)
    settings.MODEL_ROOTS = {"loras": [str(loras)]}

    model = make_model(MODEL_SHA, tags=[Tag.objects.create(name="style")])
    for color in ((200, 0, 0), (0, 200, 0)):
        sample_image_add(model=model, content=picture(color=color), file_name="sample.png")
    model_file = loras / "staged.safetensors"
    model_file.write_bytes(b"weights of a staged model")
    pending = PendingModel.objects.create(
        path=str(model_file), name="staged", type="loras", size_bytes=25
    )
    pending_image_add(
        pending_model=pending, content=picture(color=(0, 0, 200)), file_name="staged.png"
    )
    return World(tmp_path, media, outside, model, pending, "staged.png")


@pytest.fixture
def token_mode(settings):
    settings.API_AUTH = "token"


@pytest.fixture
def client_for(db):
    """client_for("alice", staff=True): an API client sending that user's token."""

    def factory(username: str, *, staff: bool = False) -> APIClient:
        token, _ = api_token_issue(username=username, create_user=True, staff=staff)
        return APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    return factory


def pytest_terminal_summary(terminalreporter):
    from tests_hardening.counts import COUNTS, LABELS

    done = [f"{COUNTS[key]} {label}" for key, label in LABELS.items() if COUNTS[key]]
    if done:
        terminalreporter.write_line("hardening: " + ", ".join(done))
