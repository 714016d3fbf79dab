"""manage.py refresh_file_info [--background]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.file_info import catalog_file_info_refresh
from config.progress import TqdmProgress
from jobs.commands import BACKGROUND_HELP, submit_from_command


class Command(BaseCommand):
    help = (
        "Read the header of every catalog model's file again and store what it says "
        "(architecture, kind, base model, trigger words, training, AutoV1). Nothing is "
        "hashed; a missing file keeps its record. Exit status 1 when files were missing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--background", action="store_true", help=BACKGROUND_HELP)

    def handle(self, *args, background: bool, **options) -> None:
        if background:
            submit_from_command(self, kind="refresh_file_info", params={})
            return
        verbosity = options["verbosity"]
        with TqdmProgress(verbosity=verbosity, desc="headers", unit=" files") as progress:
            result = catalog_file_info_refresh(progress=progress)
        if verbosity:
            self.stdout.write(
                f"Read {result.refreshed} headers: {result.header_errors} could not be read "
                f"(see header_error), {result.missing} files missing."
            )
        if verbosity > 1:
            for path in result.missing_paths:
                self.stdout.write(f"Missing: {path}")
        if result.missing:
            raise CommandError(
                f"{result.missing} catalog files were not at their path; their records "
                "were kept (run with -v 2 to list them)."
            )
