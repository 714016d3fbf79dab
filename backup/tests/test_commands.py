"""manage.py export_catalog / import_catalog: round trip, restore over existing data,
idempotence, atomicity, tag ids, bad archives."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from catalog.models import CatalogModel, FileHash, ModelLocation
from imaging.models import SampleImage
from imaging.services import sample_image_add
from imaging.tests.pictures import picture
from migration_app.models import PendingImage, PendingModel
from migration_app.services.pending import pending_image_add
from tags.models import Tag

pytestmark = pytest.mark.django_db

A, B, C = "a" * 64, "b" * 64, "c" * 64
QUALITIES = ("high", "medium", "low")


@pytest.fixture
def api() -> APIClient:
    return APIClient(HTTP_HOST="localhost")


@pytest.fixture
def library(make_model):
    """A catalog with every kind of row an archive holds."""
    anime, style, accent = (Tag.objects.create(name=n) for n in ("Anime", "style", "Café"))
    Tag.objects.create(name="unused")
    a = make_model(
        A,
        name='Comma, "quoted"\nname',
        type="loras",
        tags=[anime, style],
        favorite=True,
        rating=4,
        nsfw=True,
        description="soft brush",
        extra_meta={"base_model": "SDXL", "notes": ["x", 1]},
        file_info={"format": "safetensors", "trigger_words": ["zkz style"]},
        architecture="sdxl",
        base_model="SDXL 1.0",
        kind="lora",
        autov2="aaaaaaaaaa",
    )
    b = make_model(B, name="plain", type="checkpoints", tags=[accent])
    make_model(C, name="", path="C:\\m\\vae\\bare.safetensors", type="vae")
    ModelLocation.objects.create(model=a, path="/copies/a.safetensors", size_bytes=5)
    sample_image_add(model=a, content=picture(color=(10, 20, 30)), file_name="one.png")
    sample_image_add(model=a, content=picture((80, 40), color=(200, 0, 0)), file_name="two.png")
    sample_image_add(model=b, content=picture(image_format="JPEG"), file_name="b.jpg")
    pending = PendingModel.objects.create(path="/m/new.safetensors", name="staged", size_bytes=9)
    pending.tags.set([style])
    pending_image_add(pending_model=pending, content=picture(), file_name="staged.png")
    PendingModel.objects.create(path="/m/other.ckpt")
    FileHash.objects.create(path="/m/x", size_bytes=1, mtime_ns=1, sha256=A)


def api_answers(api) -> dict:
    """Everything the API says about the catalog, image bytes included."""
    answers: dict = {}

    def get(url: str):
        response = api.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        content = b"".join(response.streaming_content) if response.streaming else response.content
        is_json = response["Content-Type"].startswith("application/json")
        answers[url] = json.loads(content) if is_json else content
        return answers[url]

    for model_type in get("/api/models/get_types")["types"] + ["others"]:
        for model in get(f"/api/models?type={model_type}")["models"]:
            get(f"/api/models/{model['sha256']}")
            count = get(f"/api/images/get_img_num?sha256={model['sha256']}")["count"]
            for seq in range(count):
                for quality in QUALITIES:
                    get(f"/api/images/{model['sha256']}_{seq}.webp?quality={quality}")
    get("/api/tags")
    get("/api/tags?counts=true")
    for pending in get("/api/migration/pending_models")["models"]:
        get(f"/api/migration/pending_model?id={pending['id']}")
    return answers


def originals() -> dict[str, bytes]:
    images = [*SampleImage.objects.all(), *PendingImage.objects.all()]
    return {image.original.name: image.original.open("rb").read() for image in images}


def wipe(settings, tmp_path: Path, name: str) -> None:
    """A fresh instance: no rows, and an empty media folder."""
    for model in (CatalogModel, PendingModel, Tag, FileHash):
        model.objects.all().delete()
    settings.MEDIA_ROOT = tmp_path / name


def test_round_trip_into_a_fresh_instance_gives_the_same_answers_and_bytes(
    api, library, settings, tmp_path
):
    before, files_before = api_answers(api), originals()
    tag_ids = dict(Tag.objects.values_list("name", "pk"))
    archive = tmp_path / "catalog.zip"
    out = io.StringIO()

    call_command("export_catalog", str(archive), stdout=out, verbosity=0)
    assert "3 catalog models, 4 tags, 3 sample images, 2 pending models" in out.getvalue()

    wipe(settings, tmp_path, "fresh-media")
    out = io.StringIO()
    call_command("import_catalog", str(archive), stdout=out, verbosity=0)

    assert "3 catalog models added, 0 already here" in out.getvalue()
    assert api_answers(api) == before
    assert originals() == files_before
    assert dict(Tag.objects.values_list("name", "pk")) == tag_ids
    assert Tag.objects.create(name="after").pk > max(tag_ids.values())
    assert ModelLocation.objects.filter(path="/copies/a.safetensors").exists()
    assert not FileHash.objects.exists()  # the hash cache describes one machine's files
    # search documents were rebuilt by the database's triggers
    assert [m["name"] for m in api.get("/api/models?type=loras&q=zkz").json()["models"]] == [
        'Comma, "quoted"\nname'
    ]


def test_a_second_import_changes_nothing(api, library, settings, tmp_path):
    archive = tmp_path / "catalog.zip"
    call_command("export_catalog", str(archive), verbosity=0)
    wipe(settings, tmp_path, "fresh-media")
    call_command("import_catalog", str(archive), verbosity=0)
    answers, files = api_answers(api), sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*"))

    out = io.StringIO()
    call_command("import_catalog", str(archive), stdout=out, verbosity=0)

    assert "0 catalog models added, 3 already here" in out.getvalue()
    assert "0 pending models added, 2 already here" in out.getvalue()
    assert api_answers(api) == answers
    assert sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob("*")) == files


def test_restore_into_an_instance_that_has_some_of_the_models(
    api, library, settings, tmp_path, make_model
):
    archive = tmp_path / "catalog.zip"
    call_command("export_catalog", str(archive), verbosity=0)
    wipe(settings, tmp_path, "other-media")
    # The target already has model A (renamed there), a tag in another case, its own tag.
    mine = Tag.objects.create(name="mine")
    anime = Tag.objects.create(name="ANIME")
    make_model(A, name="renamed here", type="loras", tags=[mine])
    PendingModel.objects.create(path="/m/other.ckpt", name="kept")

    out = io.StringIO()
    call_command("import_catalog", str(archive), stdout=out, verbosity=0)

    assert "2 catalog models added, 1 already here" in out.getvalue()
    a = CatalogModel.objects.get(pk=A)
    assert a.name == "renamed here" and [t.name for t in a.tags.all()] == ["mine"]
    assert not SampleImage.objects.filter(model=a).exists()
    assert SampleImage.objects.filter(model_id=B).count() == 1
    assert sorted(Tag.objects.values_list("name", flat=True)) == [
        "ANIME",
        "Café",
        "mine",
        "style",
        "unused",
    ]
    assert Tag.objects.get(name="ANIME").pk == anime.pk
    assert list(CatalogModel.objects.get(pk=B).tags.values_list("name", flat=True)) == ["Café"]
    staged = PendingModel.objects.get(path="/m/new.safetensors")
    assert [t.name for t in staged.tags.all()] == ["style"]
    assert staged.images.count() == 1
    assert PendingModel.objects.get(path="/m/other.ckpt").name == "kept"
    assert api.get(f"/api/images/{B}_0.webp?quality=low").status_code == 200


def damaged_copy(archive: Path, target: Path, entry: str, text: bytes) -> Path:
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w") as copy:
        for item in source.infolist():
            data = source.read(item)
            copy.writestr(item, text if item.filename == entry else data)
    return target


@pytest.mark.parametrize(
    "line",
    [
        b'{"id": 1, "uid": "not a uuid"\n',  # not JSON
        b'{"id": 1, "uid": "not a uuid", "pending_model_id": 1}\n',  # not a uuid
        b'{"id": 1, "pending_model_id": 1, "position": "x"}\n',  # not an integer
    ],
)
def test_a_damaged_archive_changes_nothing_and_leaves_no_files(library, settings, tmp_path, line):
    archive = tmp_path / "catalog.zip"
    call_command("export_catalog", str(archive), verbosity=0)
    pending_id = PendingModel.objects.get(path="/m/new.safetensors").pk
    # The last table is broken: everything before it was restored, then rolled back.
    line = line.replace(b'"pending_model_id": 1', f'"pending_model_id": {pending_id}'.encode())
    broken = damaged_copy(
        archive, tmp_path / "broken.zip", "data/migration_app.pendingimage.jsonl", line
    )
    wipe(settings, tmp_path, "fresh-media")

    with pytest.raises(CommandError, match="(?i)nothing was changed") as error:
        call_command("import_catalog", str(broken), verbosity=0)

    assert "\n" not in str(error.value)
    assert not CatalogModel.objects.exists() and not Tag.objects.exists()
    assert not PendingModel.objects.exists() and not SampleImage.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


@pytest.mark.parametrize("content", [b"not a zip", None, b"zip without manifest"])
def test_a_file_that_is_not_an_archive_is_one_clear_error(tmp_path, content):
    path = tmp_path / "x.zip"
    if content == b"zip without manifest":
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("data/tags.tag.jsonl", "")
    elif content is not None:
        path.write_bytes(content)

    with pytest.raises(CommandError) as error:
        call_command("import_catalog", str(path), verbosity=0)

    assert "\n" not in str(error.value)


def test_a_newer_archive_version_is_refused(library, tmp_path):
    archive = tmp_path / "catalog.zip"
    call_command("export_catalog", str(archive), verbosity=0)
    manifest = json.loads(zipfile.ZipFile(archive).read("manifest.json"))
    newer = damaged_copy(
        archive,
        tmp_path / "v2.zip",
        "manifest.json",
        json.dumps({**manifest, "version": 2}).encode(),
    )

    with pytest.raises(CommandError, match="version 2"):
        call_command("import_catalog", str(newer), verbosity=0)


def test_export_refuses_to_overwrite_without_force(library, tmp_path):
    archive = tmp_path / "catalog.zip"
    archive.write_bytes(b"keep me")

    with pytest.raises(CommandError, match="already exists"):
        call_command("export_catalog", str(archive), verbosity=0)
    assert archive.read_bytes() == b"keep me"

    call_command("export_catalog", str(archive), "--force", verbosity=0)
    assert zipfile.is_zipfile(archive)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("export_catalog", str(tmp_path / "no" / "x.zip"), verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_export_outside_a_transaction_reads_a_snapshot_and_leaves_autocommit_on(tmp_path):
    from django.db import connection

    from backup.export import catalog_export, read_snapshot

    CatalogModel.objects.create(sha256=A, name="before")
    with read_snapshot():
        assert CatalogModel.objects.count() == 1
    report = catalog_export(path=tmp_path / "c.zip")

    assert report.rows["catalog.catalogmodel"] == 1
    assert connection.get_autocommit()
    CatalogModel.objects.create(sha256=B, name="after")  # writers are not blocked
    assert CatalogModel.objects.count() == 2


def test_an_image_whose_uid_the_target_has_gets_a_new_uid_and_its_own_files(
    api, library, make_model, tmp_path
):
    archive = tmp_path / "catalog.zip"
    b_image = SampleImage.objects.get(model_id=B)
    high = b"".join(api.get(f"/api/images/{B}_0.webp?quality=high").streaming_content)
    call_command("export_catalog", str(archive), verbosity=0)
    uid = b_image.uid
    CatalogModel.objects.filter(pk=B).delete()
    other = make_model("d" * 64)
    SampleImage.objects.create(model=other, seq=0, uid=uid, original=b_image.original.name)

    call_command("import_catalog", str(archive), verbosity=0)

    restored = SampleImage.objects.get(model_id=B)
    assert restored.uid != uid
    assert restored.original.name != b_image.original.name
    assert b"".join(api.get(f"/api/images/{B}_0.webp?quality=high").streaming_content) == high
