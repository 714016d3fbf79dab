"""Renditions follow rows: made on create (not raw saves), removed after delete."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.db.models.signals import post_save
from django.utils import timezone
from PIL import Image

from imaging.models import RenditionedImage, SampleImage, renditioned_models
from imaging.tests.conftest import stored_files
from imaging.tests.pictures import picture

pytestmark = pytest.mark.django_db


def new_image(model, size=(300, 200)) -> SampleImage:
    image = SampleImage(model=model, seq=0)
    image.original.save("a.png", ContentFile(picture(size)), save=False)
    return image


def test_saving_a_new_image_writes_three_renditions_of_the_right_sizes(make_model):
    image = new_image(make_model())
    image.save()

    sizes = {}
    for quality in ("high", "medium", "low"):
        with image.original.storage.open(image.rendition_name(quality)) as handle:
            sizes[quality] = Image.open(io.BytesIO(handle.read())).size
    assert sizes == {"high": (300, 200), "medium": (198, 132), "low": (99, 66)}


def test_raw_saves_write_no_renditions(make_model):
    image = new_image(make_model())
    image.created = timezone.now()  # raw saves skip auto_now_add

    image.save_base(raw=True)

    assert stored_files() == {image.original.name}


def test_deleting_the_row_removes_its_files_after_commit(
    make_model, django_capture_on_commit_callbacks
):
    image = new_image(make_model())
    image.save()

    with django_capture_on_commit_callbacks(execute=True):
        image.delete()

    assert stored_files() == set()


def test_deleting_the_catalog_model_removes_its_images_files(
    make_model, django_capture_on_commit_callbacks
):
    model = make_model()
    new_image(model).save()

    with django_capture_on_commit_callbacks(execute=True):
        model.delete()

    assert stored_files() == set()


def test_every_renditioned_model_is_wired_including_the_staging_one():
    labels = {model._meta.label for model in renditioned_models()}

    assert {"imaging.SampleImage", "migration_app.PendingImage"} <= labels
    for model in renditioned_models():
        assert issubclass(model, RenditionedImage)
        assert post_save.has_listeners(model)
