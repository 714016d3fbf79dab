"""manage.py rebuild_renditions through call_command."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from imaging.services import renditions_missing

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
