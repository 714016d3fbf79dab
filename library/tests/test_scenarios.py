"""What users do to their model folders, and what the catalog makes of it.

Each scenario changes files only through ``disk`` (library/tests/conftest.py),
which then checks that no service wrote, moved or deleted a model file.
"""

from __future__ import annotations

import os

import pytest

from catalog.models import CatalogModel, ModelLocation
from library.services.verify import library_verify
from library.tests.conftest import catalog_add, digest, rows_per_path, weights
from migration_app.models import PendingModel
from migration_app.services.folder_scan import folder_scan
from migration_app.services.promotion import STRATEGIES, pending_models_promote
from tags.models import Tag

pytestmark = pytest.mark.django_db


def locations_of(sha256: str) -> dict[str, bool]:
    return dict(ModelLocation.objects.filter(model_id=sha256).values_list("path", "missing"))


def model(sha256: str) -> CatalogModel:
    return CatalogModel.objects.get(pk=sha256)


def test_a_promoted_model_has_its_file_as_its_one_location(roots):
    content = weights("detailer")
    path = roots.write("models/loras/detailer.safetensors", content)
    (outcome,) = catalog_add(path)
    assert outcome.status == "success"
    assert locations_of(digest(content)) == {path: False}
    assert model(digest(content)).path == path and not model(digest(content)).missing


@pytest.mark.parametrize("strategy", [None, *STRATEGIES])
def test_a_resolved_duplicate_never_comes_back_as_pending(roots, strategy):
    content = weights("style")
    first = roots.write("models/loras/style.safetensors", content)
    catalog_add(first)
    copy = roots.copy(first, "drive2/loras/style (copy).safetensors")
    (outcome,) = catalog_add(copy, strategy=strategy)
    expected = {None: "conflict", "override": "success", "merge": "success"}
    assert outcome.status == expected.get(strategy, {"ignore": "ignored"}.get(strategy, "deleted"))
    after_resolution = set(PendingModel.objects.values_list("path", flat=True))
    for _ in range(2):
        report = folder_scan()
        assert report.pending_added == 0
    # The copy is remembered as a location (merge, override, delete) or stays the
    # one pending row it was (no strategy, ignore): the pending list empties.
    assert set(PendingModel.objects.values_list("path", flat=True)) == after_resolution
    if strategy in ("merge", "override", "delete"):
        assert locations_of(digest(content)) == {first: False, copy: False}
        assert model(digest(content)).path == first  # the primary stays the first copy
    assert all(count == 1 for count in rows_per_path().values())


def test_a_file_moved_within_a_root_is_relinked_by_the_next_scan(roots):
    content = weights("moved")
    path = roots.write("models/loras/old name.safetensors", content)
    catalog_add(path)
    sha = digest(content)
    tag = Tag.objects.create(name="kept")
    model(sha).tags.add(tag)
    moved = roots.move(path, "models/loras/sub/new name.safetensors")

    report = folder_scan()

    assert (report.relinked, report.pending_added) == (1, 0)
    # Renamed on one drive: the same file (inode), so the location itself moved.
    assert locations_of(sha) == {moved: False}
    assert model(sha).path == moved and not model(sha).missing
    assert list(model(sha).tags.all()) == [tag]
    assert not PendingModel.objects.exists()


def test_a_file_moved_across_roots_is_relinked_and_the_old_copy_remembered(roots):
    content = weights("across", size=5000)
    path = roots.write("models/loras/across.safetensors", content)
    catalog_add(path)
    sha = digest(content)
    library_verify()
    # Another drive: a copy with a new inode, then the original deleted.
    copy = roots.copy(path, "drive2/loras/across.safetensors")
    roots.remove(path)

    report = folder_scan()

    assert (report.relinked, report.pending_added) == (1, 0)
    assert locations_of(sha) == {path: True, copy: False}
    assert model(sha).path == copy and not model(sha).missing


def test_renaming_a_whole_folder_relinks_every_model_and_duplicates_none(roots):
    contents = {f"m{index}.safetensors": weights(f"folder {index}") for index in range(6)}
    paths = [
        roots.write(f"models/loras/style pack/{name}", data) for name, data in contents.items()
    ]
    catalog_add(*paths)
    assert CatalogModel.objects.count() == 6
    roots.move(roots.path("models/loras/style pack"), "models/loras/Style Pack v2")

    report = folder_scan()

    assert (report.relinked, report.pending_added) == (6, 0)
    for name, data in contents.items():
        expected = roots.path(f"models/loras/Style Pack v2/{name}")
        assert locations_of(digest(data)) == {expected: False}
        assert model(digest(data)).path == expected
    assert CatalogModel.objects.count() == 6 and not PendingModel.objects.exists()
    assert folder_scan().pending_added == 0


def test_a_file_replaced_by_other_bytes_is_taken_off_its_model_and_staged(roots):
    original, other = weights("v1"), weights("v2", size=6000)
    path = roots.write("models/loras/lora.safetensors", original)
    catalog_add(path)
    library_verify()
    roots.replace(path, other)

    report = library_verify()

    assert (report.changed, report.staged, report.linked) == (1, 1, 0)
    assert locations_of(digest(original)) == {}
    gone = model(digest(original))
    assert gone.missing and gone.missing_since is not None  # kept, never deleted
    pending = PendingModel.objects.get()
    assert (pending.path, pending.sha256, pending.size_bytes) == (path, digest(other), 6000)
    assert pending.type == "loras"


def test_a_file_replaced_by_a_cataloged_models_bytes_is_linked_to_that_model(roots):
    first, second = weights("first"), weights("second")
    path_a = roots.write("models/loras/a.safetensors", first)
    path_b = roots.write("models/loras/b.safetensors", second)
    catalog_add(path_a, path_b)
    library_verify()
    roots.replace(path_a, second)

    report = library_verify()

    assert (report.changed, report.linked, report.staged) == (1, 1, 0)
    assert locations_of(digest(second)) == {path_a: False, path_b: False}
    assert model(digest(first)).missing
    assert not PendingModel.objects.exists()


def test_a_touched_file_is_re_hashed_and_kept(roots):
    content = weights("touched")
    path = roots.write("models/checkpoints/touched.safetensors", content)
    catalog_add(path)
    library_verify()
    roots.touch(path)

    report = library_verify()

    assert (report.changed, report.staged, report.unchanged) == (1, 0, 0)
    assert locations_of(digest(content)) == {path: False}
    assert library_verify().unchanged == 1


def test_an_unmounted_root_makes_every_model_missing_and_deletes_nothing(roots):
    from imaging.services import sample_image_add
    from imaging.tests.pictures import picture

    paths = [
        roots.write(f"drive2/loras/l{index}.safetensors", weights(f"drive {index}"))
        for index in range(4)
    ]
    catalog_add(*paths)
    shas = list(CatalogModel.objects.values_list("sha256", flat=True))
    sample_image_add(model=model(shas[0]), content=picture((20, 20)), file_name="s.png")
    model(shas[0]).tags.add(Tag.objects.create(name="on drive 2"))
    library_verify()
    roots.move(roots.path("drive2"), "unplugged")  # the disk is gone

    report = library_verify()

    assert (report.missing, report.checked) == (4, 4)
    assert CatalogModel.objects.filter(missing=True).count() == 4
    assert model(shas[0]).images.count() == 1 and model(shas[0]).tags.count() == 1
    assert not PendingModel.objects.exists()
    assert folder_scan().pending_added == 0

    roots.move(roots.path("unplugged"), "drive2")  # plugged in again
    report = library_verify()

    assert (report.restored, report.missing) == (4, 0)
    assert not CatalogModel.objects.filter(missing=True).exists()
    assert sorted(ModelLocation.objects.values_list("path", flat=True)) == sorted(paths)


def test_hard_links_and_symlinks_to_one_file_are_one_copy(roots, api):
    content = weights("linked", size=8000)
    path = roots.write("models/loras/linked.safetensors", content)
    catalog_add(path)
    hard = roots.hardlink(path, "models/loras/hard/linked.safetensors")
    soft = roots.symlink(path, "drive2/loras/soft.safetensors")
    for extra in (hard, soft):
        pending = PendingModel.objects.create(path=extra, type="loras", size_bytes=8000)
        assert pending_models_promote(ids=[pending.pk], strategy="merge")[0].status == "success"
    assert api.get("/api/library/duplicates").json() == {"groups": [], "total_reclaimable_bytes": 0}

    copy = roots.copy(path, "models/checkpoints/linked copy.safetensors")
    (outcome,) = catalog_add(copy, strategy="merge")

    group = api.get("/api/library/duplicates").json()["groups"][0]
    assert (group["copies"], group["reclaimable_bytes"]) == (2, 8000)
    assert group["locations"] == [
        {"path": path, "same_file_as": None},
        {"path": hard, "same_file_as": path},
        {"path": soft, "same_file_as": path},
        {"path": copy, "same_file_as": None},
    ]
    assert library_verify().unchanged == 4


def test_a_file_reachable_from_two_roots_is_one_model_and_one_location(roots, settings):
    shared = roots.path("models/loras/shared")
    content = weights("shared")
    path = roots.write("models/loras/shared/both.safetensors", content)
    os.symlink(shared, roots.path("drive2/loras/shared"), target_is_directory=True)
    catalog_add(path)
    for _ in range(2):
        assert folder_scan().pending_added == 0
    assert locations_of(digest(content)) == {path: False}
    assert library_verify().unchanged == 1


def test_a_model_with_no_path_and_no_location_is_missing_after_verify(roots, make_model):
    bare = make_model(path="")
    assert not model(bare.sha256).missing

    library_verify()

    assert model(bare.sha256).missing and model(bare.sha256).missing_since


def test_pending_files_are_verified_too(roots):
    kept = roots.write("models/loras/kept.safetensors", weights("kept"))
    grown = roots.write("models/loras/grown.safetensors", weights("grown"))
    gone = roots.write("models/loras/gone.safetensors", weights("gone"))
    folder_scan()
    pending = PendingModel.objects.get(path=grown)
    PendingModel.objects.filter(pk=pending.pk).update(sha256=digest(weights("grown")))
    library_verify()
    roots.append(grown, b"more bytes")
    roots.remove(gone)

    report = library_verify()

    assert (report.checked, report.unchanged, report.changed, report.missing) == (3, 1, 1, 1)
    pending.refresh_from_db()
    assert pending.sha256 == digest(weights("grown") + b"more bytes")
    assert pending.size_bytes == 4096 + 10
    assert PendingModel.objects.filter(path=gone).exists()  # never deleted
    assert kept in set(PendingModel.objects.values_list("path", flat=True))
