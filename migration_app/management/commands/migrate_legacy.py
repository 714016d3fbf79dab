"""manage.py migrate_legacy LEGACY_DB [--images DIR] [--dry-run]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from tqdm.contrib.logging import logging_redirect_tqdm

from config.api import ServiceError
from config.progress import TqdmProgress
from jobs.commands import BACKGROUND_HELP, submit_from_command
from migration_app.services.legacy_import import LegacyImportReport, legacy_db_import


class Command(BaseCommand):
    help = (
        "Import the legacy SQLite database (opened read-only): hashed models into the "
        "catalog, unhashed ones into the staging area. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("legacy_db", help="Path of the legacy SQLite file.")
        parser.add_argument("--images", dest="images_dir", help="Folder holding the legacy images.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Do the whole import, then roll it back."
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help=BACKGROUND_HELP
            + " Paths are then confined to LEGACY_IMPORT_ROOTS, as for the API.",
        )

    def handle(
        self,
        *args,
        legacy_db: str,
        images_dir: str | None,
        dry_run: bool,
        background: bool,
        **options,
    ):
        if background:
            if dry_run:
                raise CommandError("--dry-run and --background cannot be used together.")
            params = {"legacy_db_path": legacy_db, "legacy_images_dir": images_dir}
            submit_from_command(self, kind="legacy_import", params=params)
            return
        verbosity = options["verbosity"]
        try:
            # Problems are logged as they are met; print them above the bar.
            with (
                logging_redirect_tqdm(),
                TqdmProgress(verbosity=verbosity, desc="models", unit="row") as progress,
            ):
                report = legacy_db_import(
                    db_path=legacy_db, images_dir=images_dir, dry_run=dry_run, progress=progress
                )
        except ServiceError as exc:
            raise CommandError(exc.message) from None
        self._summary(report, legacy_db, dry_run)
        if report.failed:
            errors = report.errors + report.images_errors
            raise CommandError(f"{errors} error(s) counted; the log above names each one.")

    def _summary(self, report: LegacyImportReport, legacy_db: str, dry_run: bool) -> None:
        db, images = report.as_dict()["db_migration"], report.as_dict()["image_migration"]
        suffix = " (dry run: rolled back, nothing changed)" if dry_run else ""
        self.stdout.write(f"Legacy import of {legacy_db}{suffix}")
        self.stdout.write(
            f"  models: {db['migrated']} migrated, {db['merged']} merged, "
            f"{db['pending']} pending, {db['skipped']} skipped, {db['errors']} errors"
        )
        self.stdout.write(f"  tags:   {db['tags']} created")
        self.stdout.write(
            f"  images: {images['processed']} stored, {images['missing']} missing, "
            f"{images['errors']} errors"
        )
        status = self.style.ERROR if report.failed else self.style.SUCCESS
        self.stdout.write(status("failed" if report.failed else "success"))
