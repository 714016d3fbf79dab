"""What a consistent service looks like, checked from a fresh process.

``report()`` runs inside ``manage.py shell`` of a test instance (see
``Instance.query``) and returns plain JSON data, so the concurrency and crash
tests can assert on the database and the media folder as a restarted service
would see them.
"""

from __future__ import annotations

from collections import Counter
from io import BytesIO

from django.core.files.storage import default_storage
from PIL import Image

from catalog.models import CatalogModel
from imaging.models import SampleImage
from migration_app.models import PendingImage, PendingModel
from tags.models import Tag


def _rendition_is_whole(name: str) -> bool:
    with default_storage.open(name, "rb") as handle:
        data = handle.read()
    try:
        with Image.open(BytesIO(data)) as picture:
            picture.load()
            return picture.format == "WEBP"
    except Exception:
        return False


def _walk(folder: str) -> list[str]:
    if not default_storage.exists(folder):
        return []
    directories, files = default_storage.listdir(folder)
    names = [f"{folder}/{name}" for name in files]
    for directory in directories:
        names.extend(_walk(f"{folder}/{directory}"))
    return names


def report() -> dict:
    seqs = {
        model.sha256: list(model.images.order_by("seq").values_list("seq", flat=True))
        for model in CatalogModel.objects.all()
    }
    contents = {
        sha: list(
            SampleImage.objects.filter(model_id=sha)
            .order_by("seq")
            .values_list("content_sha256", flat=True)
        )
        for sha in seqs
    }
    rows = [*SampleImage.objects.all(), *PendingImage.objects.all()]
    referenced: set[str] = set()
    missing: list[str] = []
    broken: list[str] = []
    for row in rows:
        names = [row.original.name, *row.rendition_names()]
        referenced.update(names)
        missing.extend(name for name in names if not default_storage.exists(name))
        broken.extend(
            name
            for name in row.rendition_names()
            if default_storage.exists(name) and not _rendition_is_whole(name)
        )
    stored = _walk("images") + _walk("pending")
    tag_names = Counter(name.lower() for name in Tag.objects.values_list("name", flat=True))
    return {
        "seqs": seqs,
        "gaps": [sha for sha, found in seqs.items() if found != list(range(len(found)))],
        "contents": contents,
        "images": len(rows),
        "missing_files": missing,
        "broken_renditions": broken,
        "temporary_files": [name for name in stored if name.endswith(".tmp")],
        "orphan_files": [
            name for name in stored if name not in referenced and not name.endswith(".tmp")
        ],
        "duplicate_tags": [name for name, count in tag_names.items() if count > 1],
        "tags": sorted(tag_names),
        "models": sorted(seqs),
        "pending": sorted(PendingModel.objects.values_list("path", flat=True)),
    }
