"""manage.py watch [--rescan-only] [--rescan-minutes N] [--polling]"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from config.api import ServiceError
from jobs.services import job_submit
from library.services.rescan import rescan_submit_if_due
from library.services.watch import TICK_SECONDS, LibraryWatcher
from migration_app.services.folder_scan import scan_roots

logger = logging.getLogger(__name__)

# How often the periodic rescan looks whether one is due.
RESCAN_CHECK_SECONDS = 30.0


class Command(BaseCommand):
    help = (
        "Watch the model roots: stage each new model file once its size has been stable for "
        "2 s, mark removed files missing. With RESCAN_MINUTES (or --rescan-minutes) also submit "
        "a scan job every N minutes. At start, a verify job and a scan job catch up on what "
        "changed while nothing watched. bin/serve runs it when WATCH=true or RESCAN_MINUTES is "
        "set. SIGTERM or Ctrl-C stops it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--rescan-only",
            action="store_true",
            help="Do not watch the folders; only submit the periodic scan.",
        )
        parser.add_argument(
            "--rescan-minutes",
            type=int,
            default=None,
            help="Submit a scan job every N minutes (default: RESCAN_MINUTES; 0: never).",
        )
        parser.add_argument(
            "--polling",
            action="store_true",
            help="Poll the folders every second instead of kernel notifications "
            "(network shares, where notifications do not arrive).",
        )

    def handle(
        self, *args, rescan_only: bool, rescan_minutes: int | None, polling: bool, **options
    ):
        minutes = settings.RESCAN_MINUTES if rescan_minutes is None else rescan_minutes
        if minutes < 0:
            raise CommandError("--rescan-minutes must be 0 or more.")
        if rescan_only and not minutes:
            raise CommandError("--rescan-only needs RESCAN_MINUTES or --rescan-minutes above 0.")
        watcher = None
        if not rescan_only:
            try:
                roots = scan_roots()
            except ServiceError as exc:
                raise CommandError(exc.message) from None
            watcher = LibraryWatcher(roots=roots, polling=polling)
        stop = threading.Event()
        previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
        for number in previous:
            signal.signal(number, lambda *_: stop.set())
        try:
            if watcher is not None:
                watcher.start()
                self._catch_up()
            folders = ", ".join(watcher.top_folders()) if watcher else "none"
            self.stdout.write(
                f"Watching: {folders}; periodic scan: "
                + (f"every {minutes} minutes." if minutes else "off.")
            )
            self.stdout.flush()
            self._loop(stop, watcher, minutes)
        finally:
            if watcher is not None:
                watcher.stop()
            for number, handler in previous.items():
                signal.signal(number, handler)
        if watcher is not None and options["verbosity"]:
            counts = watcher.counts
            self.stdout.write(
                f"Stopped: {counts.staged} staged, {counts.relinked} relinked, "
                f"{counts.missing} marked missing, {counts.restored} restored."
            )

    def _catch_up(self) -> None:
        """What changed while nothing watched: a verify and a scan, as jobs."""
        for kind in ("verify", "scan"):
            try:
                job_submit(kind=kind, params={})
            except ServiceError as exc:
                self.stderr.write(f"No catch-up {kind} job: {exc.message}")

    def _loop(self, stop: threading.Event, watcher: LibraryWatcher | None, minutes: int) -> None:
        next_rescan = 0.0
        while not stop.wait(TICK_SECONDS):
            try:
                if watcher is not None:
                    watcher.tick()
                if minutes and time.monotonic() >= next_rescan:
                    next_rescan = time.monotonic() + RESCAN_CHECK_SECONDS
                    rescan_submit_if_due(minutes=minutes)
            except DatabaseError:
                # The database restarting, or SQLite busy past its timeout: next round.
                logger.warning("Watch: the database could not be reached; retrying.")
                connections.close_all()
