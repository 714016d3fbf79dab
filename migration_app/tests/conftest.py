"""Fixtures of the staging tests: legacy databases built with sqlite3, model files."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from imaging.tests.pictures import picture
from migration_app.legacy_schema import LEGACY_DDL

H1 = "1" * 64
H2 = "2" * 64
H3 = "ab" * 32
H4 = "4" * 64

PNG = picture((64, 48), color=(200, 30, 30))
JPEG = picture((80, 60), color=(20, 120, 220), image_format="JPEG")
RGBA = picture((40, 30), mode="RGBA", color=(10, 200, 10, 90))
UNICODE_PNG = picture((30, 30), color=(250, 250, 0))
PENDING_PNG = picture((50, 20), color=(0, 0, 0))


def legacy_row(
    legacy_id: int,
    path: str,
    *,
    name: str | None = None,
    type: str = "loras",
    hash_hex: str = "",
    size_bytes: int | None = 1000,
    created_at: object = 1_700_000_000_000,
    extra: object = None,
) -> tuple:
    """A models row; ``extra`` is dumped to JSON unless it is already a string."""
    extra_json = extra if extra is None or isinstance(extra, str) else json.dumps(extra)
    return (legacy_id, path, name, type, size_bytes, hash_hex, created_at, "{}", extra_json)


def build_legacy_db(path: Path, rows=(), tags=(), links=()) -> Path:
    connection = sqlite3.connect(path)
    with connection:
        connection.executescript(LEGACY_DDL)
        connection.executemany("INSERT INTO models VALUES (?,?,?,?,?,?,?,?,?)", rows)
        connection.executemany(
            "INSERT INTO tags (id, name, color, created_at) VALUES (?, ?, '#fff', 0)", tags
        )
        connection.executemany("INSERT INTO model_tags VALUES (?, ?)", links)
    connection.close()
    return path


@dataclass
class Legacy:
    db: Path
    images: Path
    existing: dict = field(default_factory=dict)


@pytest.fixture
def legacy(tmp_path, make_model, db) -> Legacy:
    """A legacy database with every case SPEC.md's Stage 1 names, and its images folder.

    Before the import the catalog holds model H4 (at /models/vae/existing.safetensors)
    and the tag "Anime"; one file is already pending.
    """
    from migration_app.models import PendingModel
    from tags.models import Tag

    images = tmp_path / "legacy_media"
    images.mkdir()
    (images / "model_1_1700000000001_preview.png").write_bytes(PNG)
    (images / "model_2_1700000000002_preview.jpg").write_bytes(JPEG)
    (images / "model_2_second.png").write_bytes(PENDING_PNG)
    (images / "model_3_rgba.png").write_bytes(RGBA)
    (images / "model_6_1700000000006_preview.png").write_bytes(PENDING_PNG)
    (images / "モデル.png").write_bytes(UNICODE_PNG)
    (images / "corrupt.png").write_bytes(b"this is not a picture")

    anime = Tag.objects.create(name="Anime")
    existing_model = make_model(
        H4,
        name="Existing VAE",
        type="vae",
        path="/models/vae/existing.safetensors",
        description="",
    )
    scanned = PendingModel.objects.create(path="/models/loras/scanned.safetensors", type="loras")

    rows = [
        legacy_row(
            1,
            "/models/checkpoints/dream.safetensors",
            name="Dream",
            type="checkpoint",
            hash_hex=H1,
            size_bytes=2_100_000_000,
            created_at=1_700_000_000_001,
            extra={
                "description": "A dreamy checkpoint",
                "prompts": {"positive": "masterpiece", "negative": "blurry"},
                "images": ["/media/model_1_1700000000001_preview.png"],
            },
        ),
        legacy_row(
            2,
            "C:\\Models\\Lora\\ani.safetensors",
            name="アニメ Style ✨",
            type="lora",
            hash_hex=H2.upper(),
            size_bytes=151_000_000,
            extra={
                "community_links": "https://civitai.com/models/2",
                "images": [
                    "/media/model_2_1700000000002_preview.jpg?rev=3",
                    "/media/model_2_second.png",
                ],
            },
        ),
        # The same hash as row 1: fills what row 1 left empty, adds a tag and an image.
        legacy_row(
            3,
            "/old/dream_copy.safetensors",
            name="",
            type="checkpoints",
            hash_hex=H1,
            extra={
                "description": "ignored, row 1 has one",
                "community_links": "https://civitai.com/models/1",
                "images": ["/media/model_3_rgba.png"],
            },
        ),
        legacy_row(4, "/models/embeddings/bad-hands.pt", type="embedding", hash_hex=H3),
        legacy_row(
            5,
            "/elsewhere/existing.safetensors",
            name="Legacy VAE name",
            type="vae",
            hash_hex=H4,
            extra={"description": "from legacy"},
        ),
        legacy_row(
            6,
            "/models/loras/new_lora.safetensors",
            name="New LoRA",
            type="loras",
            extra={
                "description": "staged",
                "prompts": {"positive": "1girl"},
                "images": [
                    "/media/model_6_1700000000006_preview.png",
                    "/media/%E3%83%A2%E3%83%87%E3%83%AB.png",
                    "/media/model_6_missing.png",
                ],
            },
        ),
        legacy_row(7, "D:\\Upscalers\\4x_ultra.pth", type="upscale", extra="{not json"),
        legacy_row(
            8,
            "/models/vae/broken_preview.safetensors",
            type="vae",
            hash_hex="not-a-hash",
            extra={"images": ["C:\\old\\media\\corrupt.png"]},
        ),
        legacy_row(9, "/models/vae/existing.safetensors", type="vae"),
        legacy_row(10, "/models/loras/scanned.safetensors", type="lora"),
        legacy_row(11, "", type="lora"),
    ]
    tags = [(1, "anime"), (2, "Style"), (3, "photoreal"), (4, "unused")]
    links = [(1, 1), (1, 2), (2, 1), (3, 3), (6, 2), (6, 3), (99, 1), (6, 42)]
    database = build_legacy_db(tmp_path / "legacy.db", rows, tags, links)
    return Legacy(database, images, {"anime": anime, "model": existing_model, "pending": scanned})


# The report of the first import of ``legacy`` (SPEC.md, Stage 1).
FIRST_REPORT = {
    "status": "failed",
    "db_migration": {
        "migrated": 3,
        "merged": 2,
        "pending": 3,
        "skipped": 2,
        "tags": 3,
        "errors": 1,
    },
    "image_migration": {"processed": 5, "missing": 1, "errors": 1},
}
SECOND_REPORT = {
    "status": "failed",
    "db_migration": {
        "migrated": 0,
        "merged": 0,
        "pending": 0,
        "skipped": 10,
        "tags": 0,
        "errors": 1,
    },
    "image_migration": {"processed": 0, "missing": 0, "errors": 0},
}


def media_files(root) -> set[str]:
    """Every file under the media folder, relative to it (with S3 media: every
    object of the test's bucket)."""
    from django.core.files.storage import default_storage

    from imaging.files import is_s3
    from imaging.tests.conftest import stored_files

    if is_s3(default_storage):
        return stored_files()
    found = set()
    for folder, _, files in os.walk(root):
        found |= {os.path.relpath(os.path.join(folder, name), root) for name in files}
    return found


def state() -> dict:
    """Counts of every table the staging services write, and the media files."""
    from django.conf import settings

    from catalog.models import CatalogModel
    from imaging.models import SampleImage
    from migration_app.models import PendingImage, PendingModel
    from tags.models import Tag

    return {
        "catalog": CatalogModel.objects.count(),
        "pending": PendingModel.objects.count(),
        "tags": Tag.objects.count(),
        "sample_images": SampleImage.objects.count(),
        "pending_images": PendingImage.objects.count(),
        "media": media_files(settings.MEDIA_ROOT),
    }


@pytest.fixture
def model_file(tmp_path):
    """model_file("name.safetensors", b"bytes") -> absolute path of a new file."""
    folder = tmp_path / "files"
    folder.mkdir(exist_ok=True)

    def factory(name: str = "model.safetensors", content: bytes = b"weights") -> str:
        path = folder / name
        path.write_bytes(content)
        return str(path)

    return factory


@pytest.fixture
def make_pending(model_file, db):
    """make_pending("a.safetensors", b"bytes", images=[(name, bytes)], tags=[...], **fields).

    The first argument names the file on disk; ``name=`` sets the record's name.
    """
    from migration_app.models import PendingModel
    from migration_app.services.pending import pending_image_add

    def factory(file_name="model.safetensors", content=b"weights", *, images=(), tags=(), **fields):
        path = fields.pop("path", None) or model_file(file_name, content)
        defaults = {"name": file_name, "type": "loras", "size_bytes": len(content)}
        pending = PendingModel.objects.create(path=path, **(defaults | fields))
        pending.tags.set(tags)
        for file_name, picture_bytes in images:
            pending_image_add(pending_model=pending, content=picture_bytes, file_name=file_name)
        return pending

    return factory


def sha256_of(content: bytes) -> str:
    import hashlib

    return hashlib.sha256(content).hexdigest()


@pytest.fixture
def add_sample_image(db):
    """add_sample_image(model, content) -> the SampleImage stored as the next seq."""
    from imaging.services import sample_image_add

    def factory(model, content: bytes):
        return sample_image_add(model=model, content=content, file_name="sample.png")

    return factory
