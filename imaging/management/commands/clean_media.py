"""manage.py clean_media [--delete] [--older-than MINUTES]"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from imaging.orphans import DEFAULT_GRACE, media_orphans_find, media_orphans_remove


class Command(BaseCommand):
    help = (
        "List image files that no row points at (left by a crash mid-write); "
        "with --delete, remove them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--delete", action="store_true", help="Remove the orphan files.")
        parser.add_argument(
            "--older-than",
            type=int,
            default=int(DEFAULT_GRACE.total_seconds() // 60),
            metavar="MINUTES",
            help="Only files last written this long ago (default: %(default)s); younger "
            "files may belong to a transaction still running.",
        )

    def handle(self, *args, delete: bool, older_than: int, **options) -> None:
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more minutes.")
        grace = timedelta(minutes=older_than)
        report = (media_orphans_remove if delete else media_orphans_find)(grace=grace)
        if options["verbosity"] > 1 or not delete:
            for name in report.orphans:
                self.stdout.write(name)
        verb = f"{report.removed} removed" if delete else "none removed (use --delete)"
        self.stdout.write(f"Checked {report.checked} files: {len(report.orphans)} orphans, {verb}.")
