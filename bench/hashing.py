"""Hashing one cached file: the service's hash function vs ``openssl dgst -sha256``.

Both run as whole processes on the same file, already in the page cache (it is
read once before timing; nothing is dropped from the cache).
"""

from __future__ import annotations

from bench.common import PYTHON, Row, bench_dir, best_of, emit, mb_per_s, parse_args, run_process
from bench.generate import MIB, warm, write_file

SERVICE = "import sys; from catalog.hashing import sha256_of_file as f; print(f(sys.argv[1]))"


def main() -> None:
    args = parse_args(__doc__)
    size = (256 if args.quick else 2048) * MIB
    path = write_file(bench_dir("hashing") / "model.safetensors", size)
    warm(path)
    digests: dict[str, str] = {}

    def service() -> None:
        digests["service"] = run_process([PYTHON, "-c", SERVICE, str(path)]).strip()

    def openssl() -> None:
        digests["openssl"] = run_process(["openssl", "dgst", "-sha256", "-r", str(path)]).split()[0]

    ours, limit = best_of(args.repeat, service, openssl)
    if digests["service"] != digests["openssl"]:
        raise SystemExit(f"digests differ: {digests}")
    emit(
        Row(
            benchmark=f"hashing {size // MIB} MiB cached, whole process",
            measured=f"{ours:.2f} s ({mb_per_s(size, ours)})",
            limit=f"openssl {limit:.2f} s ({mb_per_s(size, limit)})",
            ratio=ours / limit,
            op="<=",
            target=1.0,
        )
    )


if __name__ == "__main__":
    main()
