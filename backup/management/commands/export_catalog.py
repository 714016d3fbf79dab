"""manage.py export_catalog FILE [--force]"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat

from backup.export import catalog_export
from config.api import ServiceError
from config.progress import TqdmProgress


class Command(BaseCommand):
    help = (
        "Write the whole catalog (tags, models, locations, metadata, file info, sample "
        "images with their renditions, pending models) into one zip archive, for "
        "import_catalog on this or another instance."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="The archive to write, e.g. catalog-2026-12-03.zip.")
        parser.add_argument("--force", action="store_true", help="Replace FILE if it exists.")

    def handle(self, *args, file: str, force: bool, **options) -> None:
        try:
            with TqdmProgress(verbosity=options["verbosity"], desc="export", unit="item") as bar:
                report = catalog_export(path=file, overwrite=force, progress=bar)
        except ServiceError as error:
            raise CommandError(error.message) from None
        except OSError as error:
            raise CommandError(f"Could not write {file}: {error}.") from None
        rows = report.rows
        self.stdout.write(
            f"Wrote {file}: {rows.get('catalog.catalogmodel', 0):,} catalog models, "
            f"{rows.get('tags.tag', 0):,} tags, {rows.get('imaging.sampleimage', 0):,} sample "
            f"images, {rows.get('migration_app.pendingmodel', 0):,} pending models; "
            f"{report.files:,} image files ({filesizeformat(report.bytes)})."
        )
        if report.missing_files:
            self.stderr.write(
                f"{len(report.missing_files):,} image file(s) named by a row were not in "
                f"storage and are not in the archive (first: {report.missing_files[0]})."
            )
