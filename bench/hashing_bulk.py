"""``manage.py scan --hash`` over 8 cached files: two workers against one.

Throughput counts the hashing only: each run's wall time minus that of the
same command when every file is already in the hash cache (Django start-up,
the walk and the cache look-ups), measured in the same round.
"""

from __future__ import annotations

import os

from bench.common import Row, bench_dir, django_ready, emit, manage, parse_args, timed
from bench.generate import MIB, warm, write_file

FILES = 8


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from catalog.models import FileHash
    from migration_app.models import PendingModel

    size = (64 if args.quick else 256) * MIB
    root = bench_dir("hashing_bulk") / "loras"
    root.mkdir(exist_ok=True)
    for number in range(FILES):
        warm(write_file(root / f"model_{number}.safetensors", size, stamp=number + 1))
    env = {**os.environ, "MODEL_ROOTS": f"loras={root}"}
    manage("scan", "--verbosity", "0", env=env)

    def hash_run(workers: int) -> float:
        FileHash.objects.all().delete()
        PendingModel.objects.update(sha256="")
        seconds = timed(lambda: manage(*_command(workers), env=env))[0]
        assert PendingModel.objects.exclude(sha256="").count() == FILES
        return seconds

    best = {1: float("inf"), 2: float("inf"), "cached": float("inf")}
    for _ in range(args.repeat):
        best[1] = min(best[1], hash_run(1))
        best["cached"] = min(best["cached"], timed(lambda: manage(*_command(1), env=env))[0])
        best[2] = min(best[2], hash_run(2))
    parallel = _parallel_capacity()
    serial = min(_one_thread_seconds(root) for _ in range(args.repeat))
    total = FILES * size
    # max(): with --quick's small files, noise can exceed the hashing time itself.
    one, two = (total / max(best[workers] - best["cached"], 0.01) / 1e6 for workers in (1, 2))
    emit(
        Row(
            benchmark=f"hashing, bulk: scan --hash, {FILES} x {size // MIB} MiB",
            measured=f"2 workers {two:,.0f} MB/s (process {best[2]:.2f} s)",
            limit=f"1 worker {one:,.0f} MB/s (process {best[1]:.2f} s)",
            ratio=two / one,
            op=">=",
            target=1.8,
            note=f"throughput excludes {best['cached']:.2f} s of the same command with "
            "every file cached (start-up, walk, cache look-ups); in this run, hashlib "
            f"on bytes in memory ran {parallel:.2f}x faster with 2 threads than with 1 "
            "(what the machine's free cores allowed); one thread without the reader "
            f"thread hashes these files at {total / serial / 1e6:,.0f} MB/s, so two workers "
            f"are {two / (total / serial / 1e6):.2f}x one core",
        )
    )


def _one_thread_seconds(root) -> float:
    """The files hashed one after the other by this thread alone, without the reader thread."""
    import hashlib

    from catalog.hashing import read_blocks

    def hash_all() -> None:
        for path in sorted(root.iterdir()):
            with open(path, "rb", buffering=0) as handle:
                read_blocks(handle, [hashlib.sha256().update], threaded=False)

    return timed(hash_all)[0]


def _parallel_capacity() -> float:
    """Speed-up of pure in-memory hashing with two threads over one, best of 3.

    No files and no database: the ceiling that other processes on a shared
    machine leave for two workers at the time of the run.
    """
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    data = os.urandom(64 * MIB)
    jobs = [data] * 8

    def hash_all(threads: int) -> float:
        with ThreadPoolExecutor(threads) as pool:
            return timed(lambda: list(pool.map(lambda b: hashlib.sha256(b).digest(), jobs)))[0]

    one = min(hash_all(1) for _ in range(3))
    two = min(hash_all(2) for _ in range(3))
    return one / two


def _command(workers: int) -> list[str]:
    return ["scan", "--hash", "--workers", str(workers)]


if __name__ == "__main__":
    main()
