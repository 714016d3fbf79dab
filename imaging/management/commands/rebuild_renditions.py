"""manage.py rebuild_renditions [--all]"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from config.progress import TqdmProgress
from imaging.services import renditions_rebuild
from jobs.commands import BACKGROUND_HELP, submit_from_command


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
        parser.add_argument("--background", action="store_true", help=BACKGROUND_HELP)

    def handle(self, *args, rebuild_all: bool, background: bool, **options) -> None:
        if background:
            submit_from_command(self, kind="rebuild_renditions", params={"all": rebuild_all})
            return
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
