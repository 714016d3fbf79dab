"""A ``promote`` job of pending files of 1 MiB, run as a worker runs it (``job_execute``).

Limit: hashing the same files directly with the service's hash function (the
part of a promotion no implementation can skip). The hash cache is emptied
before every run, so each promotion reads its files.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter

from bench.common import (
    Row,
    bench_dir,
    django_ready,
    emit,
    human_rate,
    manage,
    parse_args,
    timed,
)
from bench.generate import MIB, warm, write_file


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from catalog.hashing import sha256_of_file

    count = 100 if args.quick else 1_000
    root = bench_dir("promotion") / "loras"
    root.mkdir(exist_ok=True)
    paths = [
        write_file(root / f"model_{n:04d}.safetensors", MIB, stamp=n + 1) for n in range(count)
    ]
    for path in paths:
        warm(path)
    env = {**os.environ, "MODEL_ROOTS": f"loras={root}"}
    from jobs.services import job_execute, job_submit

    def promote() -> float:
        ids = _fresh_pending(env)
        assert len(ids) == count
        job, _ = job_submit(kind="promote", params={"id": ids, "conflict_strategy": None})
        seconds = timed(lambda: job_execute(job_id=job.pk))[0]
        job.refresh_from_db()
        assert job.state == "succeeded", job.error
        assert len(job.result["success"]) == count, str(job.result)[:500]
        return seconds

    def hash_directly() -> float:
        return timed(lambda: [sha256_of_file(str(path)) for path in paths])[0]

    from django.db import connection

    executed: list[str] = []
    in_driver = [0.0]  # seconds inside the database driver: SQL execution, no ORM work

    def record(execute, sql, params, many, context):
        executed.append(sql)
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            in_driver[0] += time.perf_counter() - began

    with connection.execute_wrapper(record):  # also the warm-up round
        promote()
    transaction_control = ("BEGIN", "SAVEPOINT", "RELEASE")
    statements = sum(not sql.startswith(transaction_control) for sql in executed) / count
    read, write = _orm_query_seconds()
    best_promote = best_hash = float("inf")
    for _ in range(args.repeat):
        best_promote = min(best_promote, promote())
        best_hash = min(best_hash, hash_directly())
    # One of the statements ends the item's transaction: count it at the price of a commit.
    floor = (statements - 1) * read + write
    tables = Counter(
        match.group(1)
        for sql in executed
        if (match := re.search(r'(?:FROM|INTO|UPDATE) "?(\w+)"?', sql))
        and not sql.startswith(transaction_control)
    )
    by_table = ", ".join(f"{name} {n / count:.1f}" for name, n in tables.most_common(8))
    emit(
        Row(
            benchmark=f"promotion job, {count:,} pending files of 1 MiB",
            measured=f"{human_rate(count, best_promote, 'items')} ({best_promote:.2f} s)",
            limit=f"hashing alone {human_rate(count, best_hash, 'files')} ({best_hash:.2f} s)",
            ratio=best_promote / best_hash,
            op="<=",
            target=2.0,
            note=f"{statements:.1f} SQL statements per item (SPEC: each item its own "
            f"transaction); here a row read by primary key costs {read * 1000:.2f} ms and an "
            f"autocommitted one-row UPDATE {write * 1000:.2f} ms, so the queries alone take "
            f"about {floor * 1000:.1f} ms per item, {floor / (best_hash / count):.1f}x "
            f"the hashing; measured inside the driver (first round), the statements took "
            f"{in_driver[0] / count * 1000:.1f} ms per item, "
            f"{in_driver[0] / best_hash:.1f}x the hashing. Statements per item by table: "
            f"{by_table}",
        )
    )


def _orm_query_seconds() -> tuple[float, float]:
    """Wall time of the cheapest ORM read (a row by primary key) and of the cheapest
    durable write (a one-row UPDATE in its own transaction), best of 3 x 200."""
    from catalog.models import FileHash

    row = FileHash.objects.create(path="/bench/probe", size_bytes=0, mtime_ns=0, sha256="0" * 64)

    def per_call(action) -> float:
        return min(timed(lambda: [action(n) for n in range(200)])[0] for _ in range(3)) / 200

    read = per_call(lambda n: FileHash.objects.filter(pk=row.pk).first())
    write = per_call(lambda n: FileHash.objects.filter(pk=row.pk).update(mtime_ns=n))
    row.delete()
    return read, write


def _fresh_pending(env: dict[str, str]) -> list[int]:
    """Empty catalog and hash cache, every file pending again; the pending ids."""
    from catalog.models import CatalogModel, FileHash
    from migration_app.models import PendingModel

    CatalogModel.objects.all().delete()
    FileHash.objects.all().delete()
    manage("scan", "--verbosity", "0", env=env)
    return list(PendingModel.objects.order_by("pk").values_list("pk", flat=True))


if __name__ == "__main__":
    main()
