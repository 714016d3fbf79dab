"""Stage 1: the legacy import service, against legacy databases built with sqlite3."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from django.conf import settings

from catalog.models import CatalogModel
from config.api import InvalidInput
from imaging.models import SampleImage
from migration_app.legacy_schema import image_file_name, legacy_sha256
from migration_app.models import PendingImage, PendingModel
from migration_app.services import legacy_import
from migration_app.services.legacy_import import legacy_db_import
from migration_app.tests.conftest import (
    FIRST_REPORT,
    H1,
    H2,
    H3,
    H4,
    JPEG,
    PENDING_PNG,
    PNG,
    RGBA,
    SECOND_REPORT,
    UNICODE_PNG,
    build_legacy_db,
    legacy_row,
    media_files,
    state,
)
from tags.models import Tag

pytestmark = pytest.mark.django_db


def run(legacy, **kwargs):
    return legacy_db_import(db_path=str(legacy.db), images_dir=str(legacy.images), **kwargs)


def tag_names(model) -> set[str]:
    return set(model.tags.values_list("name", flat=True))


def originals(images) -> list[bytes]:
    contents = []
    for image in images:
        with image.original.open("rb") as handle:
            contents.append(handle.read())
    return contents


def test_report_counts_every_case_exactly(legacy):
    assert run(legacy).as_dict() == FIRST_REPORT


def test_hashed_rows_become_catalog_models_with_mapped_types(legacy):
    run(legacy)
    dream = CatalogModel.objects.get(sha256=H1)
    assert (dream.name, dream.type, dream.path) == (
        "Dream",
        "checkpoints",
        "/models/checkpoints/dream.safetensors",
    )
    assert (dream.size_bytes, dream.created_at) == (2_100_000_000, 1_700_000_000_001)
    assert (dream.prompt_positive, dream.prompt_negative) == ("masterpiece", "blurry")
    anime = CatalogModel.objects.get(sha256=H2)  # the legacy hash was upper case
    assert (anime.name, anime.type) == ("アニメ Style ✨", "loras")
    assert anime.path == "C:\\Models\\Lora\\ani.safetensors"
    assert CatalogModel.objects.get(sha256=H3).type == "embeddings"


def test_second_row_with_the_same_hash_fills_empty_fields_tags_and_adds_its_image(legacy):
    run(legacy)
    dream = CatalogModel.objects.get(sha256=H1)
    assert dream.description == "A dreamy checkpoint"  # row 1's, not overwritten
    assert dream.community_links == "https://civitai.com/models/1"  # filled by row 3
    assert tag_names(dream) == {"Anime", "Style", "photoreal"}
    images = list(dream.images.order_by("seq"))
    assert [image.seq for image in images] == [0, 1]
    assert originals(images) == [PNG, RGBA]


def test_only_the_first_legacy_image_of_a_hashed_model_is_imported(legacy):
    run(legacy)
    assert originals(CatalogModel.objects.get(sha256=H2).images.all()) == [JPEG]


def test_existing_catalog_model_is_merged_by_filling_empty_fields_only(legacy):
    run(legacy)
    merged = CatalogModel.objects.get(sha256=H4)
    assert merged.name == "Existing VAE"
    assert merged.path == "/models/vae/existing.safetensors"
    assert merged.description == "from legacy"


def test_tags_match_existing_ones_without_regard_to_case(legacy):
    run(legacy)
    assert set(Tag.objects.values_list("name", flat=True)) == {
        "Anime",
        "photoreal",
        "Style",
        "unused",
    }
    assert Tag.objects.filter(name__iexact="anime").count() == 1
    assert tag_names(CatalogModel.objects.get(sha256=H2)) == {"Anime"}


def test_unhashed_rows_become_pending_with_tags_metadata_and_images(legacy):
    run(legacy)
    staged = PendingModel.objects.get(path="/models/loras/new_lora.safetensors")
    assert (staged.name, staged.type, staged.description) == ("New LoRA", "loras", "staged")
    assert (staged.prompt_positive, staged.prompt_negative) == ("1girl", "")
    assert tag_names(staged) == {"Style", "photoreal"}
    images = list(staged.images.order_by("position"))
    assert [image.file_name for image in images] == [
        "model_6_1700000000006_preview.png",
        "モデル.png",
    ]
    assert originals(images) == [PENDING_PNG, UNICODE_PNG]


def test_windows_paths_and_unreadable_extra_json_are_kept_as_they_are(legacy):
    run(legacy)
    upscaler = PendingModel.objects.get(path="D:\\Upscalers\\4x_ultra.pth")
    assert (upscaler.type, upscaler.description, upscaler.display_name) == (
        "upscale_models",
        "",
        "4x_ultra.pth",
    )


def test_a_malformed_hash_is_staged_as_pending(legacy):
    run(legacy)
    staged = PendingModel.objects.get(path="/models/vae/broken_preview.safetensors")
    assert staged.sha256 == ""
    assert not staged.images.exists()  # its only image is corrupt


def test_paths_already_in_the_catalog_or_pending_are_skipped(legacy):
    run(legacy)
    assert PendingModel.objects.filter(path="/models/vae/existing.safetensors").count() == 0
    assert PendingModel.objects.filter(path="/models/loras/scanned.safetensors").count() == 1
    assert PendingModel.objects.count() == 4


def test_every_stored_image_has_its_renditions(legacy):
    run(legacy)
    files = media_files(settings.MEDIA_ROOT)
    images = [*SampleImage.objects.all(), *PendingImage.objects.all()]
    assert len(images) == 5
    for image in images:
        assert {image.original.name, *image.rendition_names()} <= files


def test_second_run_changes_nothing(legacy):
    run(legacy)
    before = state()
    assert run(legacy).as_dict() == SECOND_REPORT
    assert state() == before


def test_legacy_database_is_never_modified(legacy):
    digest = hashlib.sha256(legacy.db.read_bytes()).hexdigest()
    mtime = legacy.db.stat().st_mtime_ns
    run(legacy)
    assert hashlib.sha256(legacy.db.read_bytes()).hexdigest() == digest
    assert legacy.db.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in legacy.db.parent.iterdir() if p.name.startswith("legacy.db")) == [
        "legacy.db"
    ]


def test_failure_midway_leaves_no_rows_and_no_files(legacy, monkeypatch):
    before = state()
    original = legacy_import._LegacyImport._import_unhashed
    calls = []

    def fail_on_second_pending(self, row):
        calls.append(row.legacy_id)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(self, row)

    monkeypatch.setattr(legacy_import._LegacyImport, "_import_unhashed", fail_on_second_pending)
    with pytest.raises(RuntimeError, match="disk full"):
        run(legacy)
    # The hashed rows and the first pending row had written images by then.
    assert calls == [6, 7]
    assert state() == before


def test_dry_run_reports_like_a_real_run_and_changes_nothing(legacy):
    before = state()
    assert run(legacy, dry_run=True).as_dict() == FIRST_REPORT
    assert state() == before


def test_clean_database_reports_success(tmp_path):
    rows = [legacy_row(1, "/m/a.safetensors", hash_hex=H1), legacy_row(2, "/m/b.safetensors")]
    database = build_legacy_db(tmp_path / "clean.db", rows)
    report = legacy_db_import(db_path=str(database)).as_dict()
    assert report["status"] == "success"
    assert report["db_migration"] == {
        "migrated": 1,
        "merged": 0,
        "pending": 1,
        "skipped": 0,
        "tags": 0,
        "errors": 0,
    }


def test_without_an_images_folder_images_are_counted_missing(legacy):
    report = legacy_db_import(db_path=str(legacy.db)).as_dict()
    assert report["image_migration"] == {"processed": 0, "missing": 7, "errors": 0}


def test_invalid_rows_are_counted_logged_and_the_rest_imported(tmp_path, caplog):
    rows = [
        legacy_row(1, "/m/ok.safetensors"),
        legacy_row(2, "/m/date.safetensors", created_at="yesterday"),
        legacy_row(3, "/m/long.safetensors", name="n" * 513),
        legacy_row(4, "/m/size.safetensors", size_bytes="big"),
    ]
    database = build_legacy_db(tmp_path / "rows.db", rows, tags=[(1, "t" * 65)])
    report = legacy_db_import(db_path=str(database))
    assert report.as_dict()["db_migration"]["errors"] == 4
    assert report.as_dict()["db_migration"]["pending"] == 1
    logged = [record.getMessage() for record in caplog.records]
    assert (
        "Legacy import: model row 2 not imported: created_at 'yesterday' is not epoch milliseconds."
        in logged
    )
    assert sum("not imported" in message for message in logged) == 4


@pytest.mark.parametrize(
    "make_path",
    [
        pytest.param(lambda tmp: tmp / "absent.db", id="missing file"),
        pytest.param(lambda tmp: tmp, id="a folder"),
        pytest.param(lambda tmp: _write(tmp / "notes.txt", b"hello " * 200), id="not sqlite"),
        pytest.param(lambda tmp: _write(tmp / "empty.db", b""), id="empty file"),
        pytest.param(lambda tmp: _sqlite_without_tags(tmp / "other.db"), id="missing tables"),
        pytest.param(lambda tmp: _sqlite_without_column(tmp / "cols.db"), id="missing column"),
    ],
)
def test_bad_databases_are_refused_before_anything_is_written(tmp_path, legacy, make_path):
    before = state()
    with pytest.raises(InvalidInput):
        legacy_db_import(db_path=str(make_path(tmp_path)), images_dir=str(legacy.images))
    assert state() == before


def test_missing_images_folder_is_refused(legacy, tmp_path):
    before = state()
    with pytest.raises(InvalidInput, match="No folder"):
        legacy_db_import(db_path=str(legacy.db), images_dir=str(tmp_path / "nope"))
    assert state() == before


def test_paths_outside_allowed_roots_are_refused(legacy, tmp_path):
    allowed = [tmp_path / "elsewhere"]
    with pytest.raises(InvalidInput) as raised:
        legacy_db_import(db_path=str(legacy.db), allowed_roots=allowed)
    assert raised.value.code == "path_not_allowed"
    report = legacy_db_import(db_path=str(legacy.db), allowed_roots=[tmp_path])
    assert report.migrated == 3


def test_image_urls_are_reduced_to_file_names():
    assert image_file_name("/media/model_12_1700000000123_preview.png") == (
        "model_12_1700000000123_preview.png"
    )
    assert image_file_name("http://host/media/a%20b.png?rev=2#x") == "a b.png"
    assert image_file_name("C:\\legacy\\media\\x.jpg") == "x.jpg"
    assert image_file_name("/media/../") is None
    assert image_file_name(12) is None


def test_legacy_hashes_are_lowered_and_anything_else_is_no_hash():
    assert legacy_sha256("AB" * 32) == "ab" * 32
    assert legacy_sha256("") == ""
    assert legacy_sha256("abc") == ""
    assert legacy_sha256(None) == ""


def _write(path, content: bytes):
    path.write_bytes(content)
    return path


def _sqlite_without_tags(path):
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE models (id INTEGER PRIMARY KEY, path TEXT)")
    connection.commit()
    connection.close()
    return path


def _sqlite_without_column(path):
    build_legacy_db(path)
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE models DROP COLUMN extra_json")
    connection.commit()
    connection.close()
    return path


def test_database_paths_with_uri_characters_open(tmp_path):
    folder = tmp_path / "old library #2? 100%"
    folder.mkdir()
    database = build_legacy_db(folder / "legacy db.sqlite", [legacy_row(1, "/m/a.safetensors")])
    assert legacy_db_import(db_path=str(database)).pending == 1
