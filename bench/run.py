"""Run the benchmarks and print measured figures against limits of the same run.

    .venv/bin/python bench/run.py                 # all, on SQLite
    DATABASE_URL=postgres://... .venv/bin/python bench/run.py   # on PostgreSQL
    .venv/bin/python bench/run.py --only list --quick

Each benchmark runs as its own process with a throwaway database (a DATA_DIR in
the temporary folder for SQLite; a scratch database ``bench_<pid>`` created and
dropped through DATABASE_URL's server for PostgreSQL). Datasets go to BENCH_DIR
or a temporary folder, removed afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PYTHON, REPO, RESULT_PREFIX, Row  # noqa: E402
from bench.scratch import database_kind, scratch_environment  # noqa: E402

# name -> module run as ``python -m``; the order is the table's order.
BENCHMARKS = {
    "hashing": "bench.hashing",
    "hashing_bulk": "bench.hashing_bulk",
    "scan": "bench.scan",
    "fileinfo": "bench.fileinfo",
    "list": "bench.listing",
    "legacy_import": "bench.legacy",
    "promotion": "bench.promotion",
    "renditions": "bench.renditions",
    "jobs": "bench.jobs_engine",
    "hash_job": "bench.hash_job",
    "serving": "bench.serving",
    "sizing": "bench.sizing",
    "sidecars": "bench.sidecars",
    "library": "bench.library",
    "curation": "bench.curation",
    "backup": "bench.backup",
}


def main() -> int:
    args = _parse_args()
    names = args.only or list(BENCHMARKS)
    root = Path(os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="modellib-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    kind = database_kind()
    print(f"database: {kind}; datasets in {root}", file=sys.stderr)
    rows: list[Row] = []
    failures: list[str] = []
    try:
        for name in names:
            try:
                rows.extend(_run_one(name, root / name, args))
            except RuntimeError as exc:
                failures.append(name)
                print(f"\n{name} FAILED: {exc}", file=sys.stderr)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(_table(rows, kind, markdown=args.markdown))
    if args.json:
        Path(args.json).write_text(json.dumps([row.__dict__ for row in rows], indent=1))
    if failures:
        print(f"benchmarks that did not finish: {', '.join(failures)}", file=sys.stderr)
        return 2
    return 1 if any(row.passed is False for row in rows) else 0


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", choices=list(BENCHMARKS), help="run only this (repeatable)"
    )
    parser.add_argument("--quick", action="store_true", help="small datasets, one repeat")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best counts)")
    parser.add_argument("--keep", action="store_true", help="keep the datasets folder")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    return parser.parse_args()


def _run_one(name: str, folder: Path, args: argparse.Namespace) -> list[Row]:
    folder.mkdir(parents=True, exist_ok=True)
    command = [PYTHON, "-m", BENCHMARKS[name], "--repeat", str(args.repeat)]
    if args.quick:
        command.append("--quick")
    print(f"\n== {name}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    with scratch_environment(dict(os.environ), folder) as env:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(RESULT_PREFIX):
                row = Row(**json.loads(line[len(RESULT_PREFIX) :]))
                rows.append(row)
                print(f"   {_format(row)}", file=sys.stderr, flush=True)
            else:
                print(f"   {line.rstrip()}", file=sys.stderr, flush=True)
        if process.wait() != 0:
            raise RuntimeError(f"exit status {process.returncode}")
    print(f"   ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    if not args.keep:  # one benchmark's datasets at a time on disk
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def _verdict(row: Row) -> str:
    return {True: "pass", False: "FAIL", None: "-"}[row.passed]


def _target(row: Row) -> str:
    return f"{row.op} {row.target:g}x" if row.op else "print"


def _ratio(row: Row) -> str:
    return "-" if row.ratio is None else f"{row.ratio:.2f}x"


def _format(row: Row) -> str:
    return (
        f"{row.benchmark}: {row.measured} | limit {row.limit} | {_ratio(row)} "
        f"(target {_target(row)}) {_verdict(row)}"
    )


def _table(rows: list[Row], kind: str, *, markdown: bool) -> str:
    header = ["benchmark", "measured", "limit (same run)", "ratio", "target", "result"]
    body = [
        [row.benchmark, row.measured, row.limit, _ratio(row), _target(row), _verdict(row)]
        for row in rows
    ]
    notes = [f"{row.benchmark}: {row.note}" for row in rows if row.note]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
    else:
        widths = [max(len(str(c)) for c in column) for column in zip(header, *body, strict=False)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) for cells in body
        ]
    return "\n".join([f"\nDatabase: {kind}", *lines, *notes])


if __name__ == "__main__":
    sys.exit(main())
