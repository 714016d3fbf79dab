"""manage.py rebuild_renditions through call_command."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from imaging.services import renditions_missing
from imaging.tests.pictures import picture
from migration_app.models import PendingModel
from migration_app.services.pending import pending_image_add

pytestmark = pytest.mark.django_db


def rebuild(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("rebuild_renditions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def modified(image) -> dict[str, float]:
    return {
        name: default_storage.get_modified_time(name).timestamp()
        for name in image.rendition_names()
    }


def test_rebuilds_only_missing_renditions(make_model, add_image):
    model = make_model()
    complete, broken = add_image(model), add_image(model, color=(0, 0, 3))
    default_storage.delete(broken.rendition_name("low"))
    before = modified(complete)

    out, _err = rebuild()

    assert "Checked 2 images: 1 rendered, 0 failed." in out
    assert not renditions_missing(image=broken)
    assert modified(complete) == before


def test_all_rebuilds_every_image(make_model, add_image):
    model = make_model()
    add_image(model)
    add_image(model, color=(0, 0, 3))

    out, _err = rebuild("--all")

    assert "Checked 2 images: 2 rendered, 0 failed." in out


def test_an_unreadable_original_is_reported_and_the_run_goes_on(make_model, add_image):
    model = make_model()
    bad, good = add_image(model), add_image(model, color=(0, 0, 3))
    for image in (bad, good):
        default_storage.delete(image.rendition_name("high"))
    default_storage.delete(bad.original.name)

    out, err = rebuild()

    assert "Checked 2 images: 1 rendered, 1 failed." in out
    assert f"imaging.SampleImage {bad.pk}" in err
    assert not renditions_missing(image=good)


def test_verbosity_zero_prints_nothing(make_model, add_image):
    add_image(make_model())

    out, err = rebuild("--all", "--verbosity", "0")

    assert out == "" and err == ""


def clean_media(*args: str) -> str:
    out = io.StringIO()
    call_command("clean_media", *args, stdout=out)
    return out.getvalue()


def leave_orphans() -> list[str]:
    """Files as a crash mid-write leaves them: stored, but no row points at them."""
    names = ["images/originals/orphan.png", "images/renditions/orphan_high.webp.1a2b.tmp"]
    for name in names:
        default_storage.save(name, ContentFile(b"left behind"))
    return names


def test_clean_media_lists_orphans_and_deletes_nothing_without_delete(make_model, add_image):
    image = add_image(make_model())
    orphans = leave_orphans()

    out = clean_media("--older-than", "0")

    assert sorted(out.splitlines()[:2]) == sorted(orphans)
    assert "Checked 6 files: 2 orphans, none removed (use --delete)." in out
    assert all(default_storage.exists(name) for name in orphans)
    assert default_storage.exists(image.original.name)


def test_clean_media_delete_removes_only_files_no_row_points_at(make_model, add_image):
    sample = add_image(make_model())
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    staged = pending_image_add(pending_model=pending, content=picture((20, 20)), file_name="p.png")
    orphans = leave_orphans()

    out = clean_media("--delete", "--older-than", "0")

    assert "2 orphans, 2 removed." in out
    assert not any(default_storage.exists(name) for name in orphans)
    for image in (sample, staged):
        kept = [image.original.name, *image.rendition_names()]
        assert all(default_storage.exists(name) for name in kept)


def test_clean_media_leaves_recent_files_to_transactions_still_running(make_model):
    orphans = leave_orphans()

    out = clean_media("--delete")

    assert "Checked 2 files: 0 orphans, 0 removed." in out
    assert all(default_storage.exists(name) for name in orphans)
