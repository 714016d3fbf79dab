"""manage.py scan [--type T] [--hash] [--workers N]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.api import ServiceError
from config.progress import TqdmProgress, size_text
from jobs.commands import BACKGROUND_HELP, submit_from_command
from migration_app.services.folder_scan import folder_scan
from migration_app.services.pending_hashing import HashResult, pending_files_hash


class Command(BaseCommand):
    help = (
        "Stage every model file under the configured roots (MODEL_ROOTS / COMFYUI_PATH) "
        "as a pending model; --hash then fills the hash cache for all pending files."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--type", dest="model_type", help="Scan the roots of one type only.")
        parser.add_argument(
            "--hash",
            dest="hash_files",
            action="store_true",
            help="Hash every pending file, so that promotion does not read it again.",
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="Files hashed at the same time (default 2)."
        )
        parser.add_argument("--background", action="store_true", help=BACKGROUND_HELP)

    def handle(
        self,
        *args,
        model_type: str | None,
        hash_files: bool,
        workers: int,
        background: bool,
        **options,
    ):
        if workers < 1:
            raise CommandError("--workers must be 1 or more.")
        if background:
            submit_from_command(self, kind="scan", params={"type": model_type})
            if hash_files:
                # Queued after the scan; the worker runs jobs in order.
                submit_from_command(self, kind="hash", params={"workers": workers})
            return
        verbosity = options["verbosity"]
        try:
            with TqdmProgress(verbosity=verbosity, desc="scanning", unit=" files") as progress:
                result = folder_scan(model_type=model_type, progress=progress)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for root in result.missing_roots:
            self.stderr.write(self.style.WARNING(f"Root {root} does not exist; skipped."))
        self.stdout.write(
            f"Scanned {result.scanned} model files: {result.pending_added} new pending, "
            f"{result.skipped} skipped (already in the catalog or pending), "
            f"{result.relinked} relinked to missing catalog models."
        )
        if result.sidecars:
            self.stdout.write(
                f"{result.sidecars} new files have sidecars or previews beside them "
                "(file.sidecars; docs/sidecars.md)."
            )
        if hash_files:
            self._hash(workers, verbosity)

    def _hash(self, workers: int, verbosity: int) -> None:
        # Decimal units (kB, MB, GB) in the bar and in the summary alike; the
        # default bar would print the counts without their "B".
        options = {
            "desc": "hashing",
            "unit": "B",
            "unit_scale": True,
            "unit_divisor": 1000,
            "bar_format": "{l_bar}{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}]",
        }
        with TqdmProgress(verbosity=verbosity, **options) as progress:
            result: HashResult = pending_files_hash(workers=workers, progress=progress)
        for path, reason in result.failed:
            self.stderr.write(self.style.WARNING(f"Not hashed: {path}: {reason}."))
        read_files = result.hashed - result.from_cache
        self.stdout.write(
            f"Hashed {result.hashed:,} pending files ({size_text(result.bytes)}): "
            f"{size_text(result.bytes_read)} read from {read_files:,} files, "
            f"{result.from_cache:,} hashes from the cache (files unchanged since last read); "
            f"{len(result.failed):,} could not be hashed."
        )
