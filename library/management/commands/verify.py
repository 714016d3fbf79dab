"""manage.py verify [--background]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.api import ServiceError
from config.progress import TqdmProgress
from jobs.commands import BACKGROUND_HELP, submit_from_command
from library.services.verify import library_verify


class Command(BaseCommand):
    help = (
        "Look at every copy of every catalog model and every pending file: mark missing files, "
        "restore found ones, re-hash changed ones. Never modifies a model file."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--background", action="store_true", help=BACKGROUND_HELP)

    def handle(self, *args, background: bool, **options) -> None:
        if background:
            submit_from_command(self, kind="verify", params={})
            return
        try:
            with TqdmProgress(
                verbosity=options["verbosity"], desc="verifying", unit=" files"
            ) as progress:
                report = library_verify(progress=progress)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        for failure in report.failures:
            self.stderr.write(self.style.WARNING(f"{failure['path']}: {failure['error']}."))
        if report.failed > len(report.failures):
            self.stderr.write(
                self.style.WARNING(f"... and {report.failed - len(report.failures)} more.")
            )
        self.stdout.write(
            f"Checked {report.checked} files: {report.unchanged} unchanged, "
            f"{report.missing} missing, {report.restored} restored, {report.changed} changed "
            f"({report.staged} staged as pending, {report.linked} linked to other models), "
            f"{report.failed} could not be looked at."
        )
