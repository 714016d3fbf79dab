"""Library health: verify of unchanged locations, the duplicates report, the watcher's burst.

- verify of N unchanged locations (every catalog model has its file) against a
  bare ``os.stat`` loop over the same paths, in the same run; and its SQL
  statements per batch of 2,000 rows (constant: one SELECT when nothing changed);
- the duplicates report at N models, one in ten stored twice: time and queries;
- the folder watcher: 10,000 new files written at once, staged in how long,
  how many files per second once staging starts, in how many batches.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from bench.common import Row, bench_dir, best_of, django_ready, emit, parse_args, timed
from bench.generate import empty_tree


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    count = 10_000 if args.quick else 100_000
    base = bench_dir("library")
    paths = _catalog(base, count)
    _verify(paths, args.repeat)
    _duplicates(base, paths, args.repeat)
    _watcher(base, 2_000 if args.quick else 10_000)


def _catalog(base: Path, count: int) -> list[str]:
    """``count`` files, each a catalog model with its one location, stat recorded."""
    from catalog.locations import signed64
    from catalog.models import CatalogModel, ModelLocation

    root = base / "loras"
    empty_tree(root, folders=count // 50, files_per_folder=50)
    paths = sorted(str(path) for path in root.rglob("*.safetensors"))
    models, locations = [], []
    for number, path in enumerate(paths):
        info = os.stat(path)
        sha = f"{number:064x}"
        models.append(CatalogModel(sha256=sha, type="loras", path=path, size_bytes=0))
        locations.append(
            ModelLocation(
                model_id=sha,
                path=path,
                size_bytes=info.st_size,
                mtime_ns=info.st_mtime_ns,
                device=signed64(info.st_dev),
                inode=signed64(info.st_ino),
            )
        )
    CatalogModel.objects.bulk_create(models, batch_size=2000)
    ModelLocation.objects.bulk_create(locations, batch_size=2000)
    return paths


class _Statements:
    """Counts the SQL statements a block sends."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _verify(paths: list[str], repeat: int) -> None:
    from django.db import connection

    from library.services.verify import STAT_BATCH, library_verify

    def stat_loop() -> None:
        for path in paths:
            os.stat(path)

    report = library_verify()  # warms the caches; nothing to record
    assert report.unchanged == len(paths), report.as_dict()
    verify, stat = best_of(repeat, library_verify, stat_loop)
    statements = _Statements()
    with connection.execute_wrapper(statements):
        library_verify()
    batches = -(-len(paths) // STAT_BATCH)
    emit(
        Row(
            benchmark=f"verify {len(paths):,} unchanged locations",
            measured=f"{verify:.2f} s",
            limit=f"os.stat loop {stat:.2f} s",
            ratio=verify / stat,
            op="<=",
            target=2.0,
            note=f"{statements.count} SQL statements for {batches} batches of {STAT_BATCH}",
        )
    )


def _duplicates(base: Path, paths: list[str], repeat: int) -> None:
    from django.db import connection

    from catalog.locations import signed64
    from catalog.models import ModelLocation
    from library.selectors import duplicates_report

    copies = base / "copies"
    copies.mkdir(exist_ok=True)
    extra = []
    for number in range(0, len(paths), 10):
        path = copies / f"copy_{number:06d}.safetensors"
        os.close(os.open(path, os.O_CREAT, 0o644))
        info = os.stat(path)
        extra.append(
            ModelLocation(
                model_id=f"{number:064x}",
                path=str(path),
                size_bytes=0,
                mtime_ns=info.st_mtime_ns,
                device=signed64(info.st_dev),
                inode=signed64(info.st_ino),
            )
        )
    ModelLocation.objects.bulk_create(extra, batch_size=2000)
    statements = _Statements()
    with connection.execute_wrapper(statements):
        groups = len(duplicates_report()["groups"])
    (seconds,) = best_of(repeat, duplicates_report)
    emit(
        Row(
            benchmark=f"duplicates report, {len(paths):,} models ({groups:,} stored twice)",
            measured=f"{seconds:.2f} s",
            limit=f"{statements.count} SQL queries",
            ratio=None,
        )
    )


def _watcher(base: Path, count: int) -> None:
    from library.services.watch import LibraryWatcher
    from migration_app.models import PendingModel

    root = base / "incoming"
    root.mkdir(exist_ok=True)
    watcher = LibraryWatcher(roots=[("loras", str(root))])
    stop = threading.Event()
    thread = threading.Thread(target=watcher.run, args=(stop,), daemon=True)
    thread.start()
    while not watcher.watched:
        time.sleep(0.05)
    written, _ = timed(lambda: _burst(root, count))
    first = None
    start = time.perf_counter()
    while watcher.counts.staged < count:
        if first is None and watcher.counts.staged:
            first = time.perf_counter()
        time.sleep(0.02)
        if time.perf_counter() - start > 300:
            raise SystemExit(f"the watcher staged {watcher.counts.staged} of {count} files")
    done = time.perf_counter()
    stop.set()
    thread.join()
    assert PendingModel.objects.filter(path__startswith=str(root)).count() == count
    staging = done - (first or start)
    emit(
        Row(
            benchmark=f"watcher: burst of {count:,} new files (written in {written:.1f} s)",
            measured=f"all staged {done - start:.1f} s after the last write",
            limit="2 s of stable size first",
            ratio=None,
            note=f"{count / max(staging, 1e-3):,.0f} files/s once staging started",
        )
    )


def _burst(root: Path, count: int) -> None:
    """``count`` new files of distinct sizes (sparse: no disk written), as downloads have."""
    for number in range(count):
        descriptor = os.open(
            root / f"new_{number:05d}.safetensors", os.O_CREAT | os.O_WRONLY, 0o644
        )
        try:
            os.ftruncate(descriptor, 1_000_000 + number)
        finally:
            os.close(descriptor)


if __name__ == "__main__":
    main()
