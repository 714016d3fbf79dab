"""Legacy import through POST /api/migration/migrate_legacy_db.

Rows per second for a generated legacy database without images; images per
second for one with an image per model, printed beside the renditions of the
same pictures rendered directly (``imaging.renditions.render_renditions``),
which every imported image goes through (SPEC.md, Images).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bench.common import Row, bench_dir, django_ready, emit, parse_args, staff_client, timed
from bench.generate import legacy_database, pictures


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    rows, images = (1_000, 50) if args.quick else (10_000, 500)
    folder = bench_dir("legacy")
    plain = legacy_database(folder / "plain.sqlite3", rows=rows)
    picture_dir = folder / "legacy_images"
    names = [
        _legacy_name(index, path, picture_dir)
        for index, path in enumerate(pictures(folder / "made", count=images, size=(512, 768)))
    ]
    illustrated = legacy_database(folder / "illustrated.sqlite3", rows=images, image_names=names)

    best_rows = min(_import(plain, None, expect=rows) for _ in range(args.repeat))
    emit(
        Row(
            benchmark=f"legacy import, {rows:,} rows without images",
            measured=f"{rows / best_rows:,.0f} rows/s ({best_rows:.2f} s)",
            limit="-",
            ratio=None,
        )
    )
    best_images = min(
        _import(illustrated, picture_dir, expect=images) for _ in range(max(1, args.repeat - 1))
    )
    render = _render_all(picture_dir)
    emit(
        Row(
            benchmark=f"legacy import, {images} rows with one 512x768 image each",
            measured=f"{images / best_images:,.1f} images/s ({best_images:.2f} s)",
            limit=f"renditions alone {images / render:,.1f} images/s ({render:.2f} s)",
            ratio=best_images / render,
            note="print only: rendering three WebP tiers is most of an image's import",
        )
    )


def _legacy_name(index: int, made: Path, folder: Path) -> str:
    """Place a picture under the legacy naming scheme (model_<id>_<ms>_preview.png)."""
    folder.mkdir(exist_ok=True)
    name = f"model_{index + 1}_{1_700_000_000_000 + index}_preview.png"
    shutil.move(made, folder / name)
    return name


def _import(db_path: Path, images_dir: Path | None, *, expect: int) -> float:
    """Seconds for one import into an empty catalog."""
    _empty_catalog()
    client = staff_client()
    body = {"legacy_db_path": str(db_path)}
    if images_dir is not None:
        body["legacy_images_dir"] = str(images_dir)
    seconds, response = timed(
        lambda: client.post(
            "/api/migration/migrate_legacy_db", body, content_type="application/json"
        )
    )
    assert response.status_code == 200, response.content[:500]
    report = response.json()
    imported = report["db_migration"]["migrated"] + report["db_migration"]["pending"]
    assert imported == expect, report
    if images_dir is not None:
        assert report["image_migration"]["processed"] == expect, report
    return seconds


def _render_all(folder: Path) -> float:
    from imaging.renditions import render_renditions

    sources = [path.read_bytes() for path in sorted(folder.iterdir())]
    return timed(lambda: [render_renditions(data) for data in sources])[0]


def _empty_catalog() -> None:
    """Remove what an import created (rows, and image files through their signals)."""
    from catalog.models import CatalogModel
    from migration_app.models import PendingModel
    from tags.models import Tag

    PendingModel.objects.all().delete()
    CatalogModel.objects.all().delete()
    Tag.objects.all().delete()


if __name__ == "__main__":
    main()
