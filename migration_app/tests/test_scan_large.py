"""A scan of more files than one lookup batch: known paths are read in one query."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from migration_app.models import PendingModel
from migration_app.selectors import BATCH, known_paths
from migration_app.services.folder_scan import folder_scan

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_files(tmp_path, settings):
    root = tmp_path / "loras"
    for folder in range(4):
        (root / f"set_{folder}").mkdir(parents=True)
        for number in range(BATCH // 2 + 10):
            (root / f"set_{folder}" / f"m{number}.safetensors").write_bytes(b"w")
    settings.MODEL_ROOTS = {"loras": [str(root)]}
    return root


def test_rescan_of_many_files_skips_every_one_already_pending(many_files):
    first = folder_scan()

    again = folder_scan()

    assert first.scanned == first.pending_added == 4 * (BATCH // 2 + 10)
    assert again.skipped == again.scanned == first.scanned
    assert again.pending_added == 0 and again.pending_ids == []


def test_scan_of_many_files_stages_only_the_new_ones(many_files, make_model):
    old = sorted(str(path) for path in many_files.rglob("*.safetensors"))[: BATCH + 5]
    make_model(path=old[0])
    PendingModel.objects.bulk_create(PendingModel(path=path) for path in old[1:])

    result = folder_scan()

    assert result.skipped == len(old)
    assert result.pending_added == result.scanned - len(old)
    staged = PendingModel.objects.filter(pk__in=result.pending_ids)
    assert sorted(staged.values_list("path", flat=True)) == sorted(
        str(path) for path in many_files.rglob("*.safetensors") if str(path) not in old
    )


def test_scan_stores_each_file_with_its_name_type_size_and_time(many_files):
    result = folder_scan()

    rows = PendingModel.objects.in_bulk(result.pending_ids)
    assert sorted(result.pending_ids) == result.pending_ids == sorted(rows)
    some = rows[result.pending_ids[-1]]
    info = os.stat(some.path)
    assert (some.name, some.type, some.size_bytes, some.created_at, some.sha256) == (
        os.path.basename(some.path),
        "loras",
        1,
        info.st_mtime_ns // 1_000_000,
        "",
    )
    assert some.staged_at is not None and some.description == ""


def test_known_paths_reads_the_table_or_batches_alike(make_model):
    paths = [f"/m/loras/{number}.safetensors" for number in range(BATCH * 3)]
    PendingModel.objects.bulk_create(PendingModel(path=path) for path in paths[::2])
    make_model(path=paths[1])

    assert known_paths(paths) == set(paths[::2]) | {paths[1]}
    assert known_paths(paths[:7]) == {paths[0], paths[1], paths[2], paths[4], paths[6]}


def test_rescan_of_many_files_rereads_only_what_changed_and_stages_what_is_new(many_files):
    folder_scan()
    files = sorted(many_files.rglob("*.safetensors"))
    files[3].write_bytes(b"longer now")  # size changed
    os.utime(files[700], ns=(1_000_000_000, 1_000_000_000))  # mtime changed
    never = PendingModel.objects.get(path=str(files[900]))
    PendingModel.objects.filter(pk=never.pk).update(mtime_ns=0)  # mtime never recorded
    (many_files / "set_0" / "new.safetensors").write_bytes(b"n")

    again = folder_scan()

    assert again.scanned == len(files) + 1
    assert again.pending_added == 1 and again.file_info_refreshed == 3
    assert again.skipped == len(files)
    changed = PendingModel.objects.get(path=str(files[3]))
    assert changed.size_bytes == len(b"longer now")
    assert PendingModel.objects.get(path=str(files[700])).mtime_ns == 1_000_000_000
    assert PendingModel.objects.get(pk=never.pk).mtime_ns == os.stat(files[900]).st_mtime_ns


def test_rescan_of_many_unchanged_files_reads_the_pending_table_once_and_writes_nothing(
    many_files,
):
    folder_scan()

    with CaptureQueriesContext(connection) as queries:
        again = folder_scan()

    assert again.skipped == again.scanned == PendingModel.objects.count()
    reads = [q["sql"] for q in queries if "pendingmodel" in q["sql"] and "COUNT" not in q["sql"]]
    assert len(reads) == 1
    # No transaction either: on SQLite it would take the write lock.
    assert [q["sql"].split()[0] for q in queries] == ["SELECT", "SELECT"]


def test_rescan_with_the_type_of_a_folder_changed_keeps_each_file_pending_once(
    many_files, settings
):
    folder_scan()
    settings.MODEL_ROOTS = {"checkpoints": [str(many_files)]}

    again = folder_scan()

    assert again.pending_added == 0 and again.skipped == again.scanned
    assert PendingModel.objects.count() == again.scanned
