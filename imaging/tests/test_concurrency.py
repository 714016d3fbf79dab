"""Simultaneous writers of one model's images, on real connections and threads.

Run on SQLite and on PostgreSQL (DATABASE_URL): each thread has its own
database connection, so the locking of the services is what is tested.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from imaging.models import SampleImage
from imaging.services import sample_image_add, sample_image_delete
from imaging.tests.conftest import stored_files
from imaging.tests.pictures import picture

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(tasks: list[Callable[[], object]]) -> list[BaseException]:
    """Start every task at the same moment in its own thread; return their errors."""
    barrier = threading.Barrier(len(tasks))
    errors: list[BaseException] = []

    def worker(task: Callable[[], object]) -> None:
        try:
            barrier.wait()
            task()
        except BaseException as error:  # reported to the test thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def adder(model, color):
    return lambda: sample_image_add(
        model=model, content=picture((120, 80), color=color), file_name="x.png"
    )


def test_simultaneous_uploads_get_different_seqs_and_are_all_kept(make_model):
    model = make_model()

    errors = run_together([adder(model, (i * 30, 0, 0)) for i in range(4)])

    assert errors == []
    images = SampleImage.objects.filter(model=model)
    assert sorted(images.values_list("seq", flat=True)) == [0, 1, 2, 3]
    assert len({image.content_sha256 for image in images}) == 4
    assert len(stored_files()) == 4 * 4  # each original and its three renditions


def test_uploads_racing_deletes_leave_seqs_contiguous(make_model):
    model = make_model()
    for i in range(4):
        adder(model, (0, i * 40, 0))()
    deletes = [lambda: sample_image_delete(sha256=model.sha256, seq=0) for _ in range(3)]
    adds = [adder(model, (0, 0, i * 40)) for i in range(3)]

    errors = run_together([task for pair in zip(deletes, adds, strict=True) for task in pair])

    assert errors == []
    seqs = sorted(SampleImage.objects.filter(model=model).values_list("seq", flat=True))
    assert seqs == [0, 1, 2, 3]
    images = SampleImage.objects.filter(model=model)
    assert stored_files() == {
        name for image in images for name in (image.original.name, *image.rendition_names())
    }
