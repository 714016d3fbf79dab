"""manage.py import_catalog FILE"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from backup.restore import catalog_import
from config.api import ServiceError
from config.progress import TqdmProgress


class Command(BaseCommand):
    help = (
        "Restore an archive written by export_catalog. Adds what this instance lacks and "
        "overwrites nothing (models already here are skipped), so running it twice changes "
        "nothing the second time; all or nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="An archive written by export_catalog.")

    def handle(self, *args, file: str, **options) -> None:
        try:
            with TqdmProgress(verbosity=options["verbosity"], desc="import", unit="item") as bar:
                report = catalog_import(path=file, progress=bar)
        except ServiceError as error:
            raise CommandError(f"{error.message} Nothing was changed.") from None
        except (DatabaseError, ValidationError, OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(
                f"{file} could not be restored ({type(error).__name__}: {_one_line(error)}); "
                "nothing was changed."
            ) from None
        added, skipped = report.added, report.skipped
        self.stdout.write(
            f"Restored {file}: {added.get('catalog.catalogmodel', 0):,} catalog models added, "
            f"{skipped.get('catalog.catalogmodel', 0):,} already here; "
            f"{added.get('migration_app.pendingmodel', 0):,} pending models added, "
            f"{skipped.get('migration_app.pendingmodel', 0):,} already here; "
            f"{report.tags_created:,} tags created, {report.tags_matched:,} matched by name; "
            f"{report.files:,} image files written, {report.rendered:,} rendered."
        )
        for warning in report.warnings:
            self.stderr.write(warning)


def _one_line(error: Exception) -> str:
    # Database messages carry DETAIL and HINT lines; a command answers one sentence.
    return " ".join(str(error).split())[:500]
