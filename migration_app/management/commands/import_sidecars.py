"""manage.py import_sidecars [--background]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.api import ServiceError
from config.progress import TqdmProgress
from jobs.commands import BACKGROUND_HELP, submit_from_command
from migration_app.services.sidecar_import import catalog_sidecars_import


class Command(BaseCommand):
    help = (
        "Fill empty catalog fields (name, description, Civitai link, tags, nsfw, favorite, "
        "trigger words, base model, sample images) from the sidecar files other tools wrote "
        "beside every model file. Sidecars are only read; a second run changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--background", action="store_true", help=BACKGROUND_HELP)

    def handle(self, *args, background: bool, **options) -> None:
        if background:
            submit_from_command(self, kind="import_sidecars", params={})
            return
        try:
            with TqdmProgress(
                verbosity=options["verbosity"], desc="sidecars", unit=" models"
            ) as progress:
                report = catalog_sidecars_import(progress=progress)
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Checked {report.checked} catalog models: {report.applied} updated "
            f"({report.fields_filled} fields filled, {report.images_added} sample images added)."
        )
        for reason, count in sorted(report.skipped.items()):
            self.stdout.write(f"  skipped, {reason.replace('_', ' ')}: {count}")
