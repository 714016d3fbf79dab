"""A verify and a scan at the same time never give one path two rows."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from catalog.models import CatalogModel
from config.api import Conflict
from library.services.verify import library_verify
from library.tests.conftest import catalog_add, rows_per_path, weights
from migration_app.models import PendingModel
from migration_app.services.folder_scan import folder_scan

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_verify_and_scan_leave_one_row_per_path(roots):
    paths = [
        roots.write(f"models/loras/m{index:02}.safetensors", weights(f"c{index}", 3000 + index))
        for index in range(30)
    ]
    catalog_add(*paths)
    library_verify()
    for index in range(0, 10):  # renamed
        roots.move(paths[index], f"models/loras/renamed/m{index:02}.safetensors")
    for index in range(10, 18):  # other bytes at the same path
        roots.replace(paths[index], weights(f"new bytes {index}", 5000 + index))
    for index in range(18, 22):  # copied to the other drive, then deleted
        roots.copy(paths[index], f"drive2/loras/m{index:02}.safetensors")
        roots.remove(paths[index])
    for index in range(10):  # brand new files
        roots.write(f"models/checkpoints/new{index}.safetensors", weights(f"n{index}", 900))

    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            for _ in range(3):
                try:
                    work()
                except Conflict:
                    pass  # "another scan staged these files at the same moment": retried
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in (library_verify, folder_scan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    folder_scan()
    library_verify()
    assert all(count == 1 for count in rows_per_path().values()), rows_per_path()
    assert CatalogModel.objects.count() == 30
    # Every file on disk is a location or pending, exactly once.
    assert set(rows_per_path()) >= set(roots.model_files())
    assert PendingModel.objects.count() == 8 + 10
    assert not CatalogModel.objects.filter(missing=False, path="").exists()
