"""Shared pieces of the benchmark modules: results, timing, Django set-up.

Every benchmark module runs as its own process (``python -m bench.<name>``),
started by ``bench/run.py`` with DATA_DIR / DATABASE_URL pointing at a
throwaway database and BENCH_DIR at a temporary folder for datasets. A module
prints one ``BENCH_RESULT {json}`` line per table row; ``run.py`` collects them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULT_PREFIX = "BENCH_RESULT "


@dataclass
class Row:
    """One line of the table: a measurement, its limit and the target on their ratio.

    ``op`` is "<=" when lower is better (time against a limit's time) and ">="
    for speed-ups; an empty ``op`` means "print only".
    """

    benchmark: str
    measured: str
    limit: str
    ratio: float | None
    op: str = ""
    target: float | None = None
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if not self.op or self.ratio is None or self.target is None:
            return None
        if self.op == "<=":
            return self.ratio <= self.target
        return self.ratio >= self.target


def emit(row: Row) -> None:
    print(RESULT_PREFIX + json.dumps(asdict(row)), flush=True)


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small datasets, one repeat")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; the best counts")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 1
    return args


def bench_dir(name: str) -> Path:
    """A folder for this benchmark's datasets, under BENCH_DIR (set by run.py)."""
    root = os.environ.get("BENCH_DIR")
    if not root:
        raise SystemExit("BENCH_DIR is not set: run the benchmarks through bench/run.py.")
    folder = Path(root) / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def best_of(repeat: int, *actions: Callable[[], object]) -> list[float]:
    """The best wall time of each action over ``repeat`` interleaved rounds.

    Interleaving spreads the noise of a shared machine over every action alike,
    and the minimum is the run least disturbed by other processes.
    """
    best = [float("inf")] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            best[index] = min(best[index], timed(action)[0])
    return best


def run_process(args: list[str], env: dict[str, str] | None = None) -> str:
    """Run a whole process to completion and return its stdout; fail loudly."""
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} exited with {result.returncode}:\n{result.stderr[-2000:]}"
        )
    return result.stdout


def manage(*args: str, env: dict[str, str] | None = None) -> str:
    return run_process([PYTHON, "manage.py", *args], env=env)


def django_ready() -> None:
    """Set Django up on the throwaway database and create its tables."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    # WhiteNoise warns about a missing static folder; the benchmarks serve none.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def staff_client():
    """A test client logged in as a superuser (scan, import and promotion need staff)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench").first()
    if user is None:
        user = user_model.objects.create_superuser("bench", "bench@localhost", "bench-password")
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


@contextmanager
def peak_memory() -> Iterator[dict[str, float]]:
    """Peak Python allocation (MiB) inside the block, measured with tracemalloc."""
    import tracemalloc

    result: dict[str, float] = {}
    tracemalloc.start()
    try:
        yield result
    finally:
        result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()


def human_rate(count: float, seconds: float, unit: str) -> str:
    return f"{count / seconds:,.0f} {unit}/s" if seconds > 0 else "inf"


def mb_per_s(size_bytes: int, seconds: float) -> str:
    return f"{size_bytes / seconds / 1e6:,.0f} MB/s"
