"""A ``hash`` job over 8 GiB of cached files with ``workers: 2``, and what its progress costs.

Limit: ``openssl dgst -sha256`` of the same files, two processes at a time
(``xargs -P 2``), in the same round. The job runs in this process exactly as a
worker runs it (``job_execute``: claim, progress listener, heartbeat thread,
result); the hash cache and the pending sha256 are emptied before each run, so
every run reads every file.

The same bytes are hashed under two names (hard links, one page cache):
``.ckpt`` files get the whole-file SHA-256 only; ``.safetensors`` files also get
``tensor_sha256`` (the SHA-256 of the bytes after the header) from the same
read, twice the SHA-256 work, so their limit is openssl computing both digests
(the second through ``tail -c +N | openssl dgst``).

Progress: the ``.ckpt`` job with the listener on (``job_execute``) and off (the
kind's service with the silent listener), interleaved; the time the job's
thread spends inside the listener's calls is measured too.
"""

from __future__ import annotations

import os
import subprocess
import time

from bench.common import Row, bench_dir, django_ready, emit, mb_per_s, parse_args, timed
from bench.generate import MIB, warm, write_file


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from django.conf import settings

    import jobs.services
    from catalog.models import FileHash
    from jobs.models import Job
    from jobs.progress import JobProgress
    from jobs.services import job_execute, job_submit
    from migration_app.models import PendingModel
    from migration_app.services.folder_scan import folder_scan
    from migration_app.services.pending_hashing import pending_files_hash

    count, size = (8, 64 * MIB) if args.quick else (32, 256 * MIB)
    total = count * size
    folder = bench_dir("hash_job")
    roots = {suffix: folder / suffix for suffix in ("ckpt", "safetensors")}
    for root in roots.values():
        root.mkdir(exist_ok=True)
    for n in range(count):
        # Stamp n + 1 in the first 8 bytes: a tiny "header" of n + 1 bytes, so
        # the tensor data starts at 9 + n.
        first = write_file(roots["ckpt"] / f"model_{n:02d}.ckpt", size, stamp=n + 1)
        os.link(first, roots["safetensors"] / f"model_{n:02d}.safetensors")
        warm(first)

    # The listener's own time, measured around its calls (the job's thread only).
    spent = {"seconds": 0.0, "writes": 0}

    class TimedProgress(JobProgress):
        def start(self, total):
            began = time.perf_counter()
            try:
                super().start(total)
            finally:
                spent["seconds"] += time.perf_counter() - began

        def advance(self, amount=1):
            began = time.perf_counter()
            try:
                super().advance(amount)
            finally:
                spent["seconds"] += time.perf_counter() - began

        def flush(self):
            super().flush()
            spent["writes"] += 1

    jobs.services.JobProgress = TimedProgress
    listener = {"share": float("inf"), "writes": 0}

    def reset() -> None:
        FileHash.objects.all().delete()
        PendingModel.objects.update(sha256="")

    def job_run() -> float:
        reset()
        job, created = job_submit(kind="hash", params={"workers": 2})
        assert created
        spent.update(seconds=0.0, writes=0)
        seconds = timed(lambda: job_execute(job_id=job.pk))[0]
        job.refresh_from_db()
        assert job.state == "succeeded", job.error
        assert job.result["hashed"] == count and job.progress_done == total, job.result
        listener["share"] = min(listener["share"], spent["seconds"] / seconds)
        listener["writes"] = spent["writes"]
        return seconds

    def service_run() -> float:
        reset()
        seconds, result = timed(lambda: pending_files_hash(workers=2, unhashed_only=True))
        assert result.hashed == count
        return seconds

    def openssl(paths: list, *, tensors: bool) -> float:
        script = 'openssl dgst -sha256 -r "$1"'
        arguments = [str(path) for path in paths]
        if tensors:
            # model_NN: a header of NN + 1 bytes after the 8-byte length, so the
            # tensor data starts at byte 10 + NN (tail counts from 1).
            script += '; tail -c +"$2" "$1" | openssl dgst -sha256 -r'
            arguments = [item for n, path in enumerate(arguments) for item in (path, str(10 + n))]
        seconds, output = timed(
            lambda: (
                subprocess.run(
                    ["xargs", "-P", "2", "-n", "2" if tensors else "1", "sh", "-c", script, "sh"],
                    input="\n".join(arguments).encode(),
                    capture_output=True,
                    check=True,
                ).stdout
            )
        )
        digests = {line.split()[0].decode() for line in output.splitlines()}
        recorded = FileHash.objects.values_list("sha256", "tensor_sha256")
        expected = {digest for pair in recorded for digest in pair if digest}
        assert digests == expected, "openssl and the job disagree"
        return seconds

    results = {}
    for suffix, root in roots.items():
        PendingModel.objects.all().delete()
        settings.MODEL_ROOTS = {"loras": [str(root)]}
        folder_scan()
        paths = sorted(root.iterdir())
        best = {"job": float("inf"), "service": float("inf"), "openssl": float("inf")}
        for _ in range(args.repeat):
            best["job"] = min(best["job"], job_run())
            best["openssl"] = min(best["openssl"], openssl(paths, tensors=suffix != "ckpt"))
            if suffix == "ckpt":
                best["service"] = min(best["service"], service_run())
        results[suffix] = best
    Job.objects.all().delete()
    ckpt, safetensors = results["ckpt"], results["safetensors"]
    emit(
        Row(
            benchmark=f"hash job, workers 2, {count} x {size // MIB} MiB cached (.ckpt)",
            measured=f"{mb_per_s(total, ckpt['job'])} ({ckpt['job']:.2f} s)",
            limit=f"openssl dgst -sha256, 2 at a time, {mb_per_s(total, ckpt['openssl'])} "
            f"({ckpt['openssl']:.2f} s)",
            ratio=ckpt["job"] / ckpt["openssl"],
            op="<=",
            target=1.25,
        )
    )
    emit(
        Row(
            benchmark="the same as .safetensors (sha256 + tensor_sha256)",
            measured=f"{mb_per_s(total, safetensors['job'])} ({safetensors['job']:.2f} s)",
            limit=f"openssl, both digests, 2 at a time ({safetensors['openssl']:.2f} s)",
            ratio=safetensors["job"] / safetensors["openssl"],
            op="<=",
            target=1.25,
            note=f"{safetensors['job'] / ckpt['openssl']:.2f}x one openssl pass over the files "
            f"(the .ckpt limit): the tensor digest doubles the SHA-256 work",
        )
    )
    emit(
        Row(
            benchmark="hash job: progress writes (listener on / off)",
            measured=f"on {ckpt['job']:.2f} s",
            limit=f"off {ckpt['service']:.2f} s",
            ratio=ckpt["job"] / ckpt["service"],
            op="<=",
            target=1.02,
            note=f"'off' is the job's service with the silent listener (no job record, "
            f"listener or heartbeat); {listener['writes']} progress writes, and the job's "
            f"thread spent {listener['share'] * 100:.2f} % of the job inside the "
            "listener's calls",
        )
    )


if __name__ == "__main__":
    main()
