"""manage.py rebuild_renditions [--all]"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.progress import TqdmProgress
from imaging.services import renditions_rebuild


class Command(BaseCommand):
    help = (
        "Render the WebP renditions of sample and pending images that miss one; "
        "with --all, of every image (after changing the rendition settings)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--all",
            dest="rebuild_all",
            action="store_true",
            help="Rebuild every image's renditions, not only missing ones.",
        )

    def handle(self, *args, rebuild_all: bool, **options) -> None:
        verbosity = options["verbosity"]
        with TqdmProgress(verbosity=verbosity, desc="renditions", unit=" images") as progress:
            summary = renditions_rebuild(rebuild_all=rebuild_all, progress=progress)
        for failure in summary.failed:
            self.stderr.write(self.style.WARNING(f"Not rendered: {failure}"))
        if verbosity:
            self.stdout.write(
                f"Checked {summary.checked} images: {summary.rebuilt} rendered, "
                f"{len(summary.failed)} failed."
            )
