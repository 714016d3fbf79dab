"""Sample image writes: seq numbering, dedupe, delete-and-shift, files."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from config.api import InvalidInput, NotFound, UnsupportedMedia
from imaging.models import SampleImage
from imaging.services import (
    files_removed_on_rollback,
    image_decode_check,
    renditions_missing,
    renditions_write,
    sample_image_add,
    sample_image_delete,
    sample_image_remove,
)
from imaging.tests.conftest import stored_files
from imaging.tests.pictures import bomb_png, picture, svg

pytestmark = pytest.mark.django_db


def seqs(model) -> list[int]:
    return list(SampleImage.objects.filter(model=model).values_list("seq", flat=True))


def test_images_take_consecutive_seqs(make_model, add_image):
    model = make_model()

    images = [add_image(model, color=(i * 40, 0, 0)) for i in range(3)]

    assert [image.seq for image in images] == [0, 1, 2]
    assert images[2].base_name == f"{model.sha256}_2"


def test_add_stores_original_with_its_hash_size_and_renditions(make_model):
    model = make_model()
    content = picture((64, 48))

    image = sample_image_add(model=model, content=content, file_name="photo.PNG")

    assert image.original.name.endswith(".png")
    with image.original.open("rb") as stored:
        assert stored.read() == content
    assert (image.width, image.height) == (64, 48)
    assert len(image.content_sha256) == 64
    assert not renditions_missing(image=image)


def test_original_extension_follows_the_decoded_format_not_the_name(make_model):
    image = sample_image_add(
        model=make_model(), content=picture(image_format="JPEG"), file_name="fake.png"
    )

    assert image.original.name.endswith(".jpg")


@pytest.mark.parametrize(
    ("content", "error"),
    [(svg(), UnsupportedMedia), (b"plain text", UnsupportedMedia), (bomb_png(), InvalidInput)],
    ids=["svg", "text", "bomb"],
)
def test_add_refuses_undecodable_content_and_writes_nothing(make_model, content, error):
    model = make_model()

    with pytest.raises(error):
        sample_image_add(model=model, content=content, file_name="x.png")

    assert seqs(model) == []
    assert stored_files() == set()


def test_dedupe_skips_identical_bytes_on_the_same_model(make_model, add_image):
    model, other = make_model(), make_model()
    add_image(model)

    assert add_image(model, dedupe=True) is None
    assert add_image(other, dedupe=True) is not None
    assert add_image(model) is not None  # without dedupe the copy is added
    assert seqs(model) == [0, 1]


def test_add_inside_an_outer_transaction_rolls_back_with_it(make_model, add_image):
    model = make_model()

    with pytest.raises(RuntimeError), files_removed_on_rollback(), transaction.atomic():
        add_image(model)
        raise RuntimeError("later step failed")

    assert seqs(model) == []
    assert stored_files() == set()


def test_files_of_a_successful_block_stay(make_model, add_image):
    model = make_model()

    with files_removed_on_rollback(), transaction.atomic():
        image = add_image(model)

    assert stored_files() == {image.original.name, *image.rendition_names()}


def test_inner_block_files_are_removed_when_the_outer_block_fails(make_model, add_image):
    model = make_model()

    with pytest.raises(RuntimeError), files_removed_on_rollback():
        with files_removed_on_rollback():
            add_image(model)
        raise RuntimeError("outer failed")

    assert stored_files() == set()


def test_add_for_a_deleted_model_is_not_found(make_model):
    model = make_model()
    model.delete()

    with pytest.raises(NotFound):
        sample_image_add(model=model, content=picture(), file_name="x.png")
    assert stored_files() == set()


def test_delete_shifts_later_images_down(make_model, add_image):
    model = make_model()
    images = [add_image(model, color=(i * 50, 0, 0)) for i in range(4)]

    sample_image_delete(sha256=model.sha256, seq=1)

    remaining = SampleImage.objects.filter(model=model).order_by("seq")
    assert [(image.uid, image.seq) for image in remaining] == [
        (images[0].uid, 0),
        (images[2].uid, 1),
        (images[3].uid, 2),
    ]


def test_delete_removes_files_after_commit(
    make_model, add_image, django_capture_on_commit_callbacks
):
    model = make_model()
    kept, deleted = add_image(model), add_image(model, color=(0, 0, 9))

    with django_capture_on_commit_callbacks(execute=True):
        sample_image_delete(sha256=model.sha256, seq=1)

    assert stored_files() == {kept.original.name, *kept.rendition_names()}
    assert deleted.original.name not in stored_files()


def test_delete_of_a_missing_image_is_not_found(make_model, add_image):
    model = make_model()
    add_image(model)

    with pytest.raises(NotFound):
        sample_image_delete(sha256=model.sha256, seq=1)
    with pytest.raises(NotFound):
        sample_image_delete(sha256="f" * 64, seq=0)
    assert seqs(model) == [0]


def test_remove_by_id_reads_the_current_seq(make_model, add_image):
    model = make_model()
    images = [add_image(model, color=(i * 50, 0, 0)) for i in range(3)]

    sample_image_remove(image_id=images[0].pk)
    sample_image_remove(image_id=images[2].pk)  # its seq is 1 by now

    assert list(SampleImage.objects.filter(model=model).values_list("uid", "seq")) == [
        (images[1].uid, 0)
    ]
    with pytest.raises(NotFound):
        sample_image_remove(image_id=images[0].pk)


def test_renditions_write_replaces_missing_files(make_model, add_image):
    image = add_image(make_model())
    default_storage.delete(image.rendition_name("medium"))
    assert renditions_missing(image=image)

    renditions_write(image=image)

    assert not renditions_missing(image=image)
    assert not [name for name in stored_files() if name.endswith(".tmp")]


def test_image_decode_check_is_keyword_only_and_returns_the_format():
    assert image_decode_check(content=picture((10, 20), image_format="JPEG")) == ("JPEG", 10, 20)
