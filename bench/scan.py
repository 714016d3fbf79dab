"""``manage.py scan`` of a large tree of empty model files, and the re-scan.

Limits: a bare ``os.scandir`` walk with ``stat`` of the same tree, plus for the
first scan one raw ``executemany`` insert of the same rows into the pending
table. The scan runs as a whole process; its Django start-up is measured on
its own (a scan of an empty root) and printed beside it. The re-scan is also
timed in process (``folder_scan()`` in the benchmark's own process), the
figure the start-up does not swamp.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.common import Row, bench_dir, django_ready, emit, manage, parse_args, timed
from bench.generate import empty_tree


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from django.conf import settings

    from migration_app.models import PendingModel
    from migration_app.services.folder_scan import folder_scan

    folders, per_folder = (200, 50) if args.quick else (2_000, 50)
    base = bench_dir("scan")
    root, empty = base / "loras", base / "vae"
    empty.mkdir(exist_ok=True)
    count = empty_tree(root, folders=folders, files_per_folder=per_folder)
    env = {**os.environ, "MODEL_ROOTS": f"loras={root};vae={empty}"}
    walk(root)  # fills the dentry and inode caches once, like every timed run after it

    settings.MODEL_ROOTS = {"loras": [str(root)]}
    keys = ("scan", "rescan", "rescan_in_process", "walk", "insert", "startup")
    best = dict.fromkeys(keys, float("inf"))
    for _ in range(args.repeat):
        _clear_pending()
        best["scan"] = min(best["scan"], timed(lambda: manage("scan", env=env))[0])
        assert PendingModel.objects.count() == count
        best["rescan"] = min(best["rescan"], timed(lambda: manage("scan", env=env))[0])
        assert PendingModel.objects.count() == count
        seconds, result = timed(folder_scan)
        assert result.skipped == count
        best["rescan_in_process"] = min(best["rescan_in_process"], seconds)
        seconds, rows = timed(lambda: walk(root))
        best["walk"] = min(best["walk"], seconds)
        _clear_pending()
        best["insert"] = min(best["insert"], timed(lambda rows=rows: raw_insert(rows))[0])
        startup = timed(lambda: manage("scan", "--type", "vae", env=env))[0]
        best["startup"] = min(best["startup"], startup)
    limit = best["walk"] + best["insert"]
    emit(
        Row(
            benchmark=f"scan {count:,} files in {folders:,} folders, whole process",
            measured=f"{best['scan']:.2f} s (start-up {best['startup']:.2f} s)",
            limit=f"walk {best['walk']:.2f} s + executemany {best['insert']:.2f} s",
            ratio=best["scan"] / limit,
            op="<=",
            target=2.0,
            note=_without_startup(best["scan"], best["startup"], limit),
        )
    )
    rescans = (
        (
            "whole process",
            best["rescan"],
            f"{best['rescan']:.2f} s (start-up {best['startup']:.2f} s)",
            _without_startup(best["rescan"], best["startup"], best["walk"]),
        ),
        (
            "in process",
            best["rescan_in_process"],
            f"{best['rescan_in_process']:.2f} s",
            "folder_scan() called in the benchmark's process, beside the walk it is held to",
        ),
    )
    for how, seconds, measured, note in rescans:
        emit(
            Row(
                benchmark=f"re-scan {count:,} files (all skipped), {how}",
                measured=measured,
                limit=f"walk {best['walk']:.2f} s",
                ratio=seconds / best["walk"],
                op="<=",
                target=2.0,
                note=note,
            )
        )


def _without_startup(seconds: float, startup: float, limit: float) -> str:
    work = seconds - startup
    return (
        f"without the process start-up (Django set-up, checks: {startup:.2f} s, "
        f"measured as a scan of an empty root) the scan takes {work:.2f} s, "
        f"{work / limit:.2f}x its limit"
    )


def walk(root: Path) -> list[tuple[str, int, int]]:
    """Every file under ``root`` with its size and mtime: scandir and stat, nothing more."""
    found = []
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    info = entry.stat()
                    found.append((entry.path, info.st_size, info.st_mtime_ns))
    return found


def raw_insert(rows: list[tuple[str, int, int]]) -> None:
    """The same pending rows in one executemany on the raw DB-API cursor, one transaction.

    Every column is written (the fields' defaults where the scan writes no
    value), so the limit keeps up with the model's columns.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from migration_app.models import PendingModel

    now = timezone.now()
    fields = [field for field in PendingModel._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(PendingModel._meta.db_table)} ({columns}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )

    def row(path: str, size: int, mtime: int) -> tuple:
        values = defaults | {
            "path": path,
            "name": os.path.basename(path),
            "type": "loras",
            "size_bytes": size,
            "mtime_ns": mtime,
            "created_at": mtime // 1_000_000,
            "staged_at": now,
        }
        return tuple(field.get_db_prep_save(values[field.attname], connection) for field in fields)

    values = [row(path, size, mtime) for path, size, mtime in rows]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, values)


def _clear_pending() -> None:
    from django.db import connection, transaction

    from migration_app.models import PendingModel

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PendingModel._meta.db_table}")


if __name__ == "__main__":
    main()
