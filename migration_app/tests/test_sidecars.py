"""Sidecars through the scan, promotion, the import_sidecars route, job and command.

Every test runs on a real folder of model files with the sidecars each tool
writes (catalog/tests/sidecar_fixtures) and previews; the fixture checks at
teardown that no sidecar or preview changed (bytes and mtime).
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from catalog.models import CatalogModel
from catalog.tests.sidecar_helpers import (
    FIXTURES,
    file_hashes,
    fixture_copy,
    fixtures_snapshot,
    write_safetensors,
)
from jobs.models import Job
from migration_app.models import PendingModel
from migration_app.services.promotion import pending_models_promote
from tags.models import Tag

pytestmark = pytest.mark.django_db

SCAN = "/api/models/scan"
IMPORT = "/api/library/import_sidecars"
PROMOTE = "/api/migration/import_models"
CIVITAI_URL = "https://civitai.com/models/123?modelVersionId=456"


@pytest.fixture(autouse=True, scope="module")
def fixtures_unchanged():
    """After every test of this module: no sidecar fixture file changed (bytes or mtime)."""
    before = fixtures_snapshot()
    yield
    assert fixtures_snapshot() == before


def picture(image_format: str, color=(200, 30, 30), size=(48, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=image_format)
    return buffer.getvalue()


@dataclass
class Library:
    folder: Path
    zkz: Path
    plain: Path
    other: Path
    hazard: Path

    def companions(self) -> dict[str, tuple[bytes, int]]:
        """Every file that is not a model: bytes and mtime."""
        return {
            path.name: (path.read_bytes(), path.stat().st_mtime_ns)
            for path in sorted(self.folder.iterdir())
            if path.is_file() and path.suffix != ".safetensors"
        }


def add_zkz_sidecars(folder: Path, model: Path) -> None:
    hashes = file_hashes(model)
    for tool in ("a1111", "lora_manager", "stability_matrix", "civitai_helper"):
        fixture_copy(tool, folder, hashes)
    (folder / "unknown.civitai.info").unlink()  # another base; keep the folder tidy
    (folder / "handmade.cm-info.json").unlink()
    (folder / "zkz_style.png").write_bytes(picture("PNG"))
    (folder / "zkz_style.preview.png").write_bytes(picture("JPEG", color=(10, 90, 200)))


@pytest.fixture
def library(tmp_path, settings):
    """A loras root: zkz_style with four tools' sidecars and two previews (one a
    JPEG named .png), plain without any, other whose .civitai.info describes
    other bytes, hazard with every broken sidecar."""
    folder = tmp_path / "loras"
    folder.mkdir()
    zkz = write_safetensors(folder / "zkz_style.safetensors", seed=1)
    add_zkz_sidecars(folder, zkz)
    plain = write_safetensors(folder / "plain.safetensors", seed=2)
    other = write_safetensors(folder / "other.safetensors", seed=3)
    shutil.copyfile(
        FIXTURES / "hazards" / "other_bytes.civitai.info", folder / "other.civitai.info"
    )
    hazard = write_safetensors(folder / "hazard.safetensors", seed=4)
    for source, target in {
        "bom.json": "hazard.json",
        "cp1252.txt": "hazard.txt",
        "not_json.cm-info.json": "hazard.cm-info.json",
        "nan.metadata.json": "hazard.metadata.json",
        "empty.json": "hazard.description.txt",
    }.items():
        shutil.copyfile(FIXTURES / "hazards" / source, folder / target)
    with open(folder / "hazard.swarm.json", "wb") as handle:
        handle.truncate(17 * 1024 * 1024)  # sparse: never read
    (folder / "hazard.preview.png").write_bytes(b"not a picture at all")
    settings.MODEL_ROOTS = {"loras": [str(folder)]}
    built = Library(folder, zkz, plain, other, hazard)
    before = built.companions()
    yield built
    after = built.companions()  # files a test added itself are not compared
    assert {name: after.get(name) for name in before} == before, "a sidecar or preview changed"


def scan(api) -> dict:
    response = api.post(SCAN, {}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def promote(path: Path, strategy: str | None = None):
    pending = PendingModel.objects.get(path=str(path))
    (outcome,) = pending_models_promote(ids=[pending.pk], strategy=strategy)
    assert outcome.status == "success", outcome.error
    return CatalogModel.objects.get(pk=outcome.sha256)


# Scan


def test_scan_counts_new_files_with_sidecars_and_stages_only_models(api, library):
    body = scan(api)
    assert body["pending_added"] == 4
    assert body["sidecars"] == 3  # zkz, other, hazard; not plain
    staged = sorted(Path(path).name for path in PendingModel.objects.values_list("path", flat=True))
    assert staged == [
        "hazard.safetensors",
        "other.safetensors",
        "plain.safetensors",
        "zkz_style.safetensors",
    ]
    assert scan(api)["sidecars"] == 0  # nothing new


def test_scan_stores_file_sidecars_on_the_pending_model(api, library):
    scan(api)
    record = PendingModel.objects.get(path=str(library.zkz)).file_info["sidecars"]
    assert record["sources"] == ["json", "metadata.json", "cm-info.json", "civitai.info", "txt"]
    assert record["name"] == "Zkz Style (LM)"
    assert record["previews"] == [
        str(library.folder / "zkz_style.png"),
        str(library.folder / "zkz_style.preview.png"),
    ]
    assert PendingModel.objects.get(path=str(library.plain)).file_info.get("sidecars") is None
    # Not hashed yet: nothing to check the other file's sidecar against.
    other = PendingModel.objects.get(path=str(library.other)).file_info["sidecars"]
    assert other["name"] == "A Different Model"
    hazard = PendingModel.objects.get(path=str(library.hazard)).file_info["sidecars"]
    assert "hazard.swarm.json: larger than 16 MiB; skipped" in hazard["warnings"]


def test_scan_of_a_folder_of_sidecars_without_models_stages_nothing(api, tmp_path, settings):
    folder = tmp_path / "only_sidecars"
    fixture_copy("civitai_helper", folder)
    fixture_copy("swarmui", folder)
    (folder / "zkz_style.preview.png").write_bytes(picture("PNG"))
    settings.MODEL_ROOTS = {"loras": [str(folder)]}
    body = scan(api)
    assert (body["scanned"], body["pending_added"], body["sidecars"]) == (0, 0, 0)


# Promotion


def test_promotion_of_a_new_model_takes_over_the_sidecars(api, library):
    Tag.objects.create(name="STYLE")  # resolved without regard to case
    scan(api)
    model = promote(library.zkz)
    assert model.name == "Zkz Style (LM)"
    assert model.description.startswith("Painterly style LoRA")
    assert model.community_links == CIVITAI_URL
    assert sorted(model.tags.values_list("name", flat=True), key=str.lower) == [
        "anime",
        "Painterly",
        "STYLE",
        "watercolor",
    ]
    assert (model.favorite, model.nsfw) == (True, False)
    assert model.base_model == "Pony"
    assert model.file_info["base_model"] == "Pony"
    assert model.file_info["trigger_words"] == ["zkz style", "painterly", "painterly, soft light"]
    record = model.file_info["sidecars"]
    assert record["warnings"] == []
    assert "favorite" in record["applied"] and "images" in record["applied"]
    images = list(model.images.order_by("seq"))
    assert len(images) == 2
    # The format comes from the bytes: zkz_style.preview.png holds a JPEG.
    assert images[0].original.name.endswith(".png")
    assert images[1].original.name.endswith((".jpg", ".jpeg"))


def test_promotion_drops_a_sidecar_describing_other_bytes(api, library):
    scan(api)
    model = promote(library.other)
    assert model.name == "other.safetensors"
    assert model.community_links == ""
    assert model.file_info["sidecars"]["warnings"] == [
        "other.civitai.info: describes other bytes (its SHA-256 is not this file's); ignored"
    ]


def test_promotion_never_fails_because_of_broken_sidecars(api, library):
    scan(api)
    model = promote(library.hazard)
    assert model.name == "NaN model"
    assert model.description == "Saved by Windows Notepad"
    assert model.images.count() == 0
    warnings = "\n".join(model.file_info["sidecars"]["warnings"])
    assert "hazard.preview.png: not added as a sample image" in warnings
    assert "hazard.cm-info.json: not JSON" in warnings
    assert "hazard.description.txt: is empty" in warnings


def test_a_name_the_curator_gave_the_pending_model_is_kept(api, library):
    scan(api)
    PendingModel.objects.filter(path=str(library.zkz)).update(name="My Zkz")
    assert promote(library.zkz).name == "My Zkz"


def test_merge_onto_an_existing_model_fills_only_empty_fields(api, library, tmp_path):
    scan(api)
    model = promote(library.zkz)
    response = api.patch(
        f"/api/models/{model.sha256}",
        {"name": "Curated", "meta_json": {"description": "Mine", "community_links": ""}},
        format="json",
    )
    assert response.status_code == 200, response.content
    copy_folder = library.folder / "copies"
    copy_folder.mkdir()
    shutil.copyfile(library.zkz, copy_folder / "zkz_style.safetensors")
    fixture_copy("model_manager", copy_folder, file_hashes(library.zkz))
    scan(api)
    merged = promote(copy_folder / "zkz_style.safetensors", strategy="merge")
    assert (merged.name, merged.description) == ("Curated", "Mine")
    # Taken from sidecars once and cleared by the curator since: stays cleared.
    assert merged.community_links == ""
    assert merged.images.count() == 2  # no preview added to a model that has images
    assert merged.file_info["sidecars"]["sources"] == ["md"]


# Backfill: route, job, command


@pytest.fixture
def catalog_without_sidecars(api, library, tmp_path):
    """The library's zkz_style promoted while no sidecar was beside it, then the
    sidecars put back (a catalog built before sidecars were read)."""
    stash = tmp_path / "stash"
    stash.mkdir()
    for path in library.folder.glob("zkz_style.*"):
        if path.suffix != ".safetensors":
            shutil.move(path, stash / path.name)
    scan(api)
    model = promote(library.zkz)
    assert model.name == "zkz_style.safetensors" and model.images.count() == 0
    for path in stash.iterdir():
        shutil.move(path, library.folder / path.name)
    return model


def test_import_sidecars_fills_empty_fields_and_keeps_the_curators(api, catalog_without_sidecars):
    model = catalog_without_sidecars
    api.patch(f"/api/models/{model.sha256}", {"meta_json": {"description": "Mine"}}, format="json")
    response = api.post(IMPORT, {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "success"
    assert body["checked"] == 1 and body["applied"] == 1
    assert body["images_added"] == 2
    assert body["fields_filled"] >= 6
    model.refresh_from_db()
    assert model.description == "Mine"
    assert model.name == "Zkz Style (LM)" and model.community_links == CIVITAI_URL
    assert model.favorite is True and model.tags.count() == 4
    again = api.post(IMPORT, {}, format="json").json()
    assert again == {
        "status": "success",
        "checked": 1,
        "applied": 0,
        "fields_filled": 0,
        "images_added": 0,
        "skipped": {"nothing_to_fill": 1},
    }


def test_import_sidecars_does_not_undo_a_curator_who_unfavourited(api, catalog_without_sidecars):
    model = catalog_without_sidecars
    api.post(IMPORT, {}, format="json")
    CatalogModel.objects.filter(pk=model.pk).update(favorite=False)
    api.post(IMPORT, {}, format="json")
    model.refresh_from_db()
    assert model.favorite is False


def test_import_sidecars_counts_missing_files_and_files_without_sidecars(
    api, library, catalog_without_sidecars
):
    promote(library.plain)
    gone = promote(library.other)
    CatalogModel.objects.filter(pk=gone.pk).update(path=str(library.folder / "gone.safetensors"))
    gone.locations.update(path=str(library.folder / "gone.safetensors"))
    body = api.post(IMPORT, {}, format="json").json()
    assert body["checked"] == 3
    assert body["skipped"] == {"file_missing": 1, "no_sidecars": 1}


@pytest.mark.django_db(transaction=True)
def test_import_sidecars_as_a_job_and_a_command(api, catalog_without_sidecars, run_worker):
    response = api.post(IMPORT, {}, format="json", HTTP_PREFER="respond-async")
    assert response.status_code == 202
    run_worker()
    job = Job.objects.get(pk=response.json()["id"])
    assert job.state == "succeeded", job.error
    assert job.kind == "import_sidecars" and job.result["applied"] == 1
    output = io.StringIO()
    call_command("import_sidecars", verbosity=0, stdout=output)
    assert output.getvalue().splitlines() == [
        "Checked 1 catalog models: 0 updated (0 fields filled, 0 sample images added).",
        "  skipped, nothing to fill: 1",
    ]


@pytest.fixture
def run_worker():
    def run() -> None:
        call_command("jobs_worker", "--burst", "--worker-id", "test-worker", verbosity=0)

    return run


def test_import_sidecars_queries_do_not_grow_per_model(api, tmp_path, settings):
    folder = tmp_path / "many"
    folder.mkdir()
    settings.MODEL_ROOTS = {"loras": [str(folder)]}

    def add_models(start: int, count: int) -> None:
        for index in range(start, start + count):
            model = write_safetensors(folder / f"m{index}.safetensors", seed=10 + index)
            fixture_copy("lora_manager", folder / "tmp", file_hashes(model))
            shutil.move(
                folder / "tmp" / "zkz_style.metadata.json", folder / f"m{index}.metadata.json"
            )
        (folder / "tmp").rmdir()
        scan(api)
        pending = list(PendingModel.objects.values_list("pk", flat=True))
        pending_models_promote(ids=pending, strategy=None)
        CatalogModel.objects.update(name="", description="", community_links="", favorite=False)
        for model in CatalogModel.objects.all():
            model.tags.clear()
            model.file_info = {}
            model.save(update_fields=["file_info"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            api.post(IMPORT, {}, format="json")
        return len(captured.captured_queries)

    for name in ("style", "Painterly", "watercolor"):
        Tag.objects.create(name=name)  # resolved, not created, in every measured run
    add_models(0, 2)
    two = queries()
    add_models(2, 2)  # the first two are filled again as well
    four = queries()
    add_models(4, 4)
    eight = queries()
    per_model = (four - two) / 2
    assert per_model == (eight - four) / 4


# Admin


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("curator", "c@example.com", "pw")
    client.force_login(user)
    return client


def test_admin_shows_sources_and_warnings_and_filters_by_sidecars(staff, api, library):
    from django.urls import reverse

    scan(api)
    pending = PendingModel.objects.get(path=str(library.hazard))
    page = staff.get(reverse("admin:migration_app_pendingmodel_change", args=[pending.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "json, metadata.json, txt" in html
    assert "hazard.cm-info.json: not JSON" in html
    changelist = reverse("admin:migration_app_pendingmodel_changelist")
    with_sidecars = staff.get(changelist, {"has_sidecars": "yes"}).context["cl"].result_count
    without = staff.get(changelist, {"has_sidecars": "no"}).context["cl"].result_count
    assert (with_sidecars, without) == (3, 1)

    model = promote(library.zkz)
    promote(library.plain)
    page = staff.get(reverse("admin:catalog_catalogmodel_change", args=[model.sha256]))
    html = page.content.decode()
    assert "json, metadata.json, cm-info.json, civitai.info, txt" in html
    assert "Taken over" in html
    changelist = reverse("admin:catalog_catalogmodel_changelist")
    listed = staff.get(changelist, {"has_sidecars": "yes"}).context["cl"].result_list
    assert [item.sha256 for item in listed] == [model.sha256]


# Where it shows: the full forms


def test_full_forms_show_file_sidecars(api, library):
    scan(api)
    pending = PendingModel.objects.get(path=str(library.zkz))
    body = api.get("/api/migration/pending_model", {"id": pending.pk}).json()
    assert body["file"]["sidecars"]["sources"][0] == "json"
    assert body["file"]["sidecars"]["civitai"]["url"] == CIVITAI_URL
    model = promote(library.zkz)
    record = api.get(f"/api/models/{model.sha256}").json()["file"]["sidecars"]
    assert record["name"] == "Zkz Style (LM)"
    assert record["previews"][1].endswith("zkz_style.preview.png")
    assert record["warnings"] == []


def test_scan_command_says_how_many_new_files_have_sidecars(library):
    output = io.StringIO()
    call_command("scan", verbosity=0, stdout=output)
    assert "3 new files have sidecars or previews beside them" in output.getvalue()


def test_a_file_staged_alone_as_the_watcher_does_gets_its_sidecars(library):
    from migration_app.services.folder_scan import found_files_stage
    from migration_app.services.model_walk import FoundFile

    info = library.zkz.stat()
    found = FoundFile(str(library.zkz), "loras", info.st_size, info.st_mtime_ns)
    result = found_files_stage(found=[found])  # no listing: the folder is listed once
    assert (result.pending_added, result.sidecars) == (1, 1)
    record = PendingModel.objects.get(path=str(library.zkz)).file_info["sidecars"]
    assert record["sources"] == ["json", "metadata.json", "cm-info.json", "civitai.info", "txt"]


def test_scan_already_drops_a_sidecar_whose_autov1_is_not_the_files(api, library):
    # AutoV1 is computed at scan time (the 64 KiB at 1 MiB): no need to wait for the hash.
    (library.folder / "plain.civitai.info").write_text(
        '{"id": 7, "modelId": 6, "model": {"name": "Wrong"}, '
        '"files": [{"hashes": {"AutoV1": "0BADF00D"}}]}'
    )
    scan(api)
    record = PendingModel.objects.get(path=str(library.plain)).file_info["sidecars"]
    assert record["sources"] == []
    assert record["warnings"] == [
        "plain.civitai.info: describes other bytes (its AutoV1 hash is not this file's); ignored"
    ]


def test_a_pending_file_that_changed_gets_its_sidecars_read_again(api, library):
    scan(api)
    assert PendingModel.objects.get(path=str(library.plain)).file_info.get("sidecars") is None
    (library.folder / "plain.txt").write_text("Described later.")
    write_safetensors(library.plain, seed=99)  # new bytes, new mtime
    body = scan(api)
    assert body["sidecars"] == 0  # counts new files only
    record = PendingModel.objects.get(path=str(library.plain)).file_info["sidecars"]
    assert record["description"] == "Described later."
