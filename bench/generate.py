"""Datasets for the benchmarks, built quickly: bulk inserts and synthetic files.

Everything is written under the folder a benchmark gets from ``bench_dir``;
nothing here touches the repository.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import sqlite3
import struct
import uuid
from pathlib import Path

MIB = 1024 * 1024
MODEL_EXTENSION = ".safetensors"
_BLOCK = 16 * MIB


def write_file(path: Path, size: int, *, stamp: int = 0) -> Path:
    """A file of ``size`` bytes: one random block repeated, the first 8 bytes a stamp.

    The stamp makes files of one dataset hash differently; repeating a block
    keeps generation at disk speed instead of os.urandom's.
    """
    block = bytearray(_random_block())
    block[:8] = struct.pack("<Q", stamp)
    with open(path, "wb", buffering=0) as handle:
        remaining = size
        while remaining > 0:
            written = handle.write(memoryview(block)[: min(remaining, len(block))])
            remaining -= written
            block[:8] = b"\0" * 8  # only the file's first bytes carry the stamp
    return path


@functools.cache
def _random_block() -> bytes:
    return os.urandom(_BLOCK)


def warm(path: Path) -> None:
    """Read a file once so that every timed run reads it from the page cache."""
    with open(path, "rb", buffering=0) as handle:
        buffer = bytearray(_BLOCK)
        while handle.readinto(buffer):
            pass


def empty_tree(root: Path, *, folders: int, files_per_folder: int) -> int:
    """``folders`` subfolders (nested two levels) of empty model files; returns the count."""
    count = 0
    for index in range(folders):
        folder = root / f"group_{index % 40:02d}" / f"set_{index:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        for number in range(files_per_folder):
            os.close(os.open(folder / f"model_{number:03d}{MODEL_EXTENSION}", os.O_CREAT, 0o644))
            count += 1
    return count


def catalog_rows(*, count: int, model_type: str, start: int = 0, rich_every: int = 5) -> None:
    """``count`` catalog models of one type, numbered from ``start``; every
    ``rich_every``-th has 3 tags and 2 images.

    Sample image rows are inserted directly (no files): the list only counts them.
    """
    from catalog.models import CatalogModel
    from imaging.models import SampleImage
    from tags.models import Tag

    for n in range(60):  # mixed case: tag lists sort without regard to case
        Tag.objects.get_or_create(name=f"Bench tag {n:03d}" if n % 2 else f"bench tag {n:03d}")
    tags = list(Tag.objects.filter(name__istartswith="bench tag ").order_by("id"))
    models = [
        CatalogModel(
            sha256=f"{model_type[:4].encode().hex()}{n:056x}",
            name="" if n % 10 == 0 else f"{model_type} model {n:06d}",
            type=model_type,
            path=f"/models/{model_type}/set_{n // 50:05d}/model_{n:06d}{MODEL_EXTENSION}",
            size_bytes=150_000_000 + n,
            created_at=1_700_000_000_000 + n * 1000,
            description="a description that the list does not return " * 4,
        )
        for n in range(start, start + count)
    ]
    CatalogModel.objects.bulk_create(models, batch_size=2000)
    rich = models[::rich_every]
    through = CatalogModel.tags.through
    through.objects.bulk_create(
        [
            through(catalogmodel_id=model.sha256, tag_id=tags[(i + k * 7) % len(tags)].id)
            for i, model in enumerate(rich)
            for k in range(3)
        ],
        batch_size=5000,
    )
    SampleImage.objects.bulk_create(
        [
            SampleImage(
                model_id=model.sha256,
                seq=seq,
                uid=uuid.uuid4(),
                original=f"images/originals/{model.sha256}_{seq}.png",
                content_sha256=f"{i:060x}{seq:04x}",
                width=768,
                height=512,
            )
            for i, model in enumerate(rich)
            for seq in range(2)
        ],
        batch_size=5000,
    )


def pictures(folder: Path, *, count: int, size: tuple[int, int] = (768, 512)) -> list[Path]:
    """``count`` distinct PNG pictures with some detail (flat colour encodes unrealistically)."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    paths = []
    for index in range(count):
        image = Image.linear_gradient("L").resize(size).convert("RGB")
        draw = ImageDraw.Draw(image)
        for _ in range(40):
            x, y = rng.randrange(size[0]), rng.randrange(size[1])
            colour = (rng.randrange(256), rng.randrange(256), index % 256)
            draw.ellipse((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)), colour)
        path = folder / f"picture_{index:05d}.png"
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        path.write_bytes(buffer.getvalue())
        paths.append(path)
    return paths


LEGACY_TYPES = ("lora", "checkpoint", "vae", "embedding", "upscale", "controlnet")


def legacy_database(path: Path, *, rows: int, image_names: list[str] = ()) -> Path:
    """A legacy SQLite database of ``rows`` models: half hashed, half not, 0-3 tags each.

    The first ``len(image_names)`` models each reference one of those images.
    """
    # Imported here: the other generators run without Django set up.
    from migration_app.legacy_schema import LEGACY_DDL

    connection = sqlite3.connect(path)
    connection.executescript(LEGACY_DDL)
    connection.executemany(
        "INSERT INTO tags (id, name, color, created_at) VALUES (?, ?, '', 0)",
        [(n + 1, f"Legacy Tag {n:02d}") for n in range(40)],
    )
    connection.executemany(
        "INSERT INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_legacy_model(n, image_names[n] if n < len(image_names) else None) for n in range(rows)],
    )
    connection.executemany(
        "INSERT INTO model_tags VALUES (?, ?)",
        [(n + 1, (n + k * 11) % 40 + 1) for n in range(rows) for k in range(n % 4)],
    )
    connection.commit()
    connection.close()
    return path


def _legacy_model(n: int, image_name: str | None) -> tuple:
    extra = {
        "description": f"legacy model {n}",
        "community_links": "https://example.invalid/model",
        "prompts": {"positive": "a prompt", "negative": "blurry"},
        "images": [f"/media/{image_name}"] if image_name else [],
    }
    legacy_type = LEGACY_TYPES[n % len(LEGACY_TYPES)]
    return (
        n + 1,
        f"C:\\models\\{legacy_type}\\model_{n:06d}.safetensors",
        f"Legacy model {n:06d}",
        legacy_type,
        2_000_000 + n,
        f"{n:064x}" if n % 2 == 0 else "",
        1_690_000_000_000 + n,
        "{}",
        json.dumps(extra),
    )
