"""The folder watcher, running for real (watchdog, its own thread and database connection)."""

from __future__ import annotations

import logging
import re
import threading
import time

import pytest

from catalog.models import CatalogModel, ModelLocation
from library.services.watch import LibraryWatcher
from library.tests.conftest import catalog_add, digest, rows_per_path, weights
from migration_app.models import PendingModel
from migration_app.services.folder_scan import scan_roots

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(condition, timeout: float = 15.0) -> float:
    """Seconds until ``condition()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.1)
    return time.monotonic() - start


@pytest.fixture
def watching(roots):
    running: list[tuple[threading.Event, threading.Thread]] = []

    def start(**options) -> LibraryWatcher:
        watcher = LibraryWatcher(roots=scan_roots(), **options)
        stop = threading.Event()
        thread = threading.Thread(
            target=watcher.run, args=(stop,), kwargs={"tick_seconds": 0.2}, daemon=True
        )
        thread.start()
        running.append((stop, thread))
        wait_until(lambda: len(watcher.watched) == len(watcher.top_folders()))
        return watcher

    yield start
    for stop, thread in running:
        stop.set()
        thread.join(timeout=10)


def test_a_file_written_slowly_is_staged_once_complete(roots, watching):
    watcher = watching()
    path = roots.path("models/loras/downloading.safetensors")
    chunks = [weights(f"chunk {index}", size=50_000) for index in range(5)]
    roots.write("models/loras/downloading.safetensors", chunks[0])
    for chunk in chunks[1:]:
        time.sleep(0.7)  # pauses shorter than the 2 s a file must stay unchanged
        assert not PendingModel.objects.filter(path=path).exists(), "staged half-written"
        roots.append(path, chunk)

    took = wait_until(lambda: PendingModel.objects.filter(path=path).exists())

    assert took < 10
    pending = PendingModel.objects.get(path=path)
    assert (pending.size_bytes, pending.type) == (250_000, "loras")
    time.sleep(1)
    assert PendingModel.objects.filter(path=path).count() == 1 and watcher.counts.staged == 1


def test_a_removed_file_is_marked_missing_and_a_moved_one_relinked(roots, watching):
    kept, moved = weights("kept"), weights("moved", size=7000)
    kept_path = roots.write("models/loras/kept.safetensors", kept)
    moved_path = roots.write("models/loras/moved.safetensors", moved)
    catalog_add(kept_path, moved_path)
    watching()

    roots.remove(kept_path)
    wait_until(lambda: CatalogModel.objects.get(pk=digest(kept)).missing)
    target = roots.move(moved_path, "drive2/loras/moved.safetensors")
    wait_until(lambda: ModelLocation.objects.filter(model_id=digest(moved), path=target).exists())

    model = CatalogModel.objects.get(pk=digest(moved))
    assert model.path == target and not model.missing
    assert not PendingModel.objects.exists()
    assert all(count == 1 for count in rows_per_path().values())


def test_a_burst_of_new_files_is_staged_in_a_few_batches(roots, watching, caplog):
    caplog.set_level(logging.INFO, logger="library.services.watch")
    watcher = watching()
    count = 400
    for index in range(count):
        roots.write(f"models/checkpoints/burst/{index:04}.safetensors", weights(f"b{index}", 64))

    wait_until(lambda: PendingModel.objects.count() == count, timeout=30)

    batches = [
        int(match.group(1))
        for record in caplog.records
        if (match := re.match(r"Watch: staged (\d+) new", record.getMessage()))
    ]
    assert sum(batches) == count and len(batches) <= 4
    assert watcher.counts.staged == count


def test_an_unmounted_root_is_marked_missing_and_restored_when_back(roots, watching):
    paths = [roots.write(f"drive2/loras/{i}.safetensors", weights(f"u{i}")) for i in range(3)]
    catalog_add(*paths)
    watching(root_check_seconds=0.5)

    roots.move(roots.path("drive2"), "unplugged")
    wait_until(lambda: CatalogModel.objects.filter(missing=True).count() == 3)
    roots.move(roots.path("unplugged"), "drive2")
    wait_until(lambda: not CatalogModel.objects.filter(missing=True).exists())

    assert CatalogModel.objects.count() == 3 and not PendingModel.objects.exists()


def test_the_watch_command_catches_up_stages_and_stops_on_a_signal(roots):
    import io
    import os
    import signal

    from django.core.management import call_command
    from django.db import connection

    from jobs.models import Job

    out = io.StringIO()
    path = roots.path("models/loras/while watching.safetensors")

    def user() -> None:
        try:
            wait_until(lambda: "Watching:" in out.getvalue())
            roots.write("models/loras/while watching.safetensors", weights("watched"))
            wait_until(lambda: PendingModel.objects.filter(path=path).exists())
        finally:
            connection.close()
            os.kill(os.getpid(), signal.SIGINT)  # the command stops at its next round

    thread = threading.Thread(target=user)
    thread.start()
    previous = signal.getsignal(signal.SIGINT)
    call_command("watch", "--rescan-minutes", "0", stdout=out)
    thread.join(timeout=10)

    assert signal.getsignal(signal.SIGINT) is previous  # its handler is gone again
    assert out.getvalue().splitlines()[-1] == (
        "Stopped: 1 staged, 0 relinked, 0 marked missing, 0 restored."
    )
    assert sorted(Job.objects.values_list("kind", flat=True)) == ["scan", "verify"]
