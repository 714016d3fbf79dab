"""manage.py export_catalog and import_catalog of 10,000 models with 10,000 sample images.

Each image has its original (a 768x512 PNG) and three WebP renditions on disk,
written directly (rendering 10,000 pictures is not what is measured here).
The export and the restore (into the same database emptied, and a fresh
media folder) are timed in-process through the services the commands call;
the limit is copying the media folder with shutil.copytree, the least any
backup that includes the images must do.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

from bench.common import Row, bench_dir, django_ready, emit, parse_args
from bench.generate import catalog_rows

MODEL_TYPE = "loras"


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from django.conf import settings
    from django.test.utils import override_settings

    from backup.export import catalog_export
    from backup.restore import catalog_import
    from catalog.models import CatalogModel
    from imaging.models import SampleImage
    from migration_app.models import PendingModel
    from tags.models import Tag

    count = 1_000 if args.quick else 10_000
    folder = bench_dir("backup")
    catalog_rows(count=count, model_type=MODEL_TYPE, rich_every=count + 1)
    media = Path(settings.MEDIA_ROOT)
    images_bytes = _images(media, count)
    archive = folder / "catalog.zip"

    start = time.perf_counter()
    catalog_export(path=archive)
    export_seconds = time.perf_counter() - start

    copy_target = folder / "media-copy"
    start = time.perf_counter()
    shutil.copytree(media, copy_target)
    copy_seconds = time.perf_counter() - start
    shutil.rmtree(copy_target)

    # A fresh instance: no rows (a raw delete: the images' files stay in the
    # old folder) and an empty media folder.
    SampleImage.objects.all()._raw_delete(SampleImage.objects.db)
    for model in (CatalogModel, PendingModel, Tag):
        model.objects.all().delete()
    # override_settings, not an assignment: storages cache MEDIA_ROOT until told.
    with override_settings(MEDIA_ROOT=str(folder / "restored-media")):
        start = time.perf_counter()
        report = catalog_import(path=archive)
        import_seconds = time.perf_counter() - start
        restored = sum(1 for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file())
    assert report.added["catalog.catalogmodel"] == count, report.added
    assert SampleImage.objects.count() == count
    assert restored == count * 4, restored

    size = archive.stat().st_size / 1e6
    for label, seconds in (("export_catalog", export_seconds), ("import_catalog", import_seconds)):
        emit(
            Row(
                benchmark=f"{label}, {count:,} models + {count:,} images "
                f"({images_bytes / 1e6:.0f} MB of files, archive {size:.0f} MB)",
                measured=f"{seconds:.2f} s ({count / seconds:,.0f} models/s)",
                limit=f"copying the media folder {copy_seconds:.2f} s",
                ratio=seconds / copy_seconds,
            )
        )


def _images(media: Path, count: int) -> int:
    """One sample image per model: rows inserted in bulk, four files each on disk."""
    from catalog.models import CatalogModel
    from imaging.models import SampleImage
    from imaging.tests.pictures import picture

    original = picture((768, 512), color=(90, 120, 150))
    # Renditions: real WebP bytes are not needed for a copy; sized like real ones.
    renditions = {"high": b"R" * 60_000, "medium": b"M" * 30_000, "low": b"L" * 10_000}
    shas = CatalogModel.objects.order_by("pk").values_list("pk", flat=True)
    SampleImage.objects.all()._raw_delete(SampleImage.objects.db)  # those catalog_rows made
    rows = []
    total = 0
    (media / "images" / "originals").mkdir(parents=True, exist_ok=True)
    (media / "images" / "renditions").mkdir(parents=True, exist_ok=True)
    for sha in shas.iterator():
        uid = uuid.uuid4()
        name = f"images/originals/{uid}.png"
        (media / name).write_bytes(original)
        total += len(original)
        for quality, data in renditions.items():
            (media / f"images/renditions/{uid}_{quality}.webp").write_bytes(data)
            total += len(data)
        rows.append(
            SampleImage(
                model_id=sha,
                seq=0,
                uid=uid,
                original=name,
                content_sha256=sha,
                width=768,
                height=512,
            )
        )
    SampleImage.objects.bulk_create(rows, batch_size=2000)
    return total


if __name__ == "__main__":
    main()
