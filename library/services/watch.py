"""Watching the model roots: new files staged once complete, removed files marked missing.

watchdog's observer thread only notes paths; the watcher's own loop (one
thread, the only one touching the database) acts on them every half second:

- a new or changed model file becomes a candidate; once its size and
  modification time have not changed for ``stable_seconds`` (2 s) it is
  staged, candidates of one round together (a burst of 10,000 files is a few
  transactions, not 10,000), through the scan's own staging (relink first);
- a removed file (or folder) has its locations verified: gone, they are
  marked missing; a file put back is restored;
- a root that disappears (an unmounted disk) has all its locations marked
  missing; when it comes back, they are verified and its new files staged.

Nothing here writes, moves or deletes a model file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import DatabaseError, connections
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from config.api import ServiceError
from library.services.paths import root_type_for
from library.services.verify import locations_verify
from migration_app.services.folder_scan import found_files_stage
from migration_app.services.model_walk import FoundFile, is_model_name, model_files_walk

logger = logging.getLogger(__name__)

STABLE_SECONDS = 2.0
TICK_SECONDS = 0.5
# Files staged per transaction.
STAGE_BATCH = 2000
# How often the roots themselves are checked for being there.
ROOT_CHECK_SECONDS = 5.0


def is_model_file(path: str) -> bool:
    return is_model_name(os.path.basename(path))


class _Events(FileSystemEventHandler):
    """Paths noted by watchdog's thread, handed over to the watcher's loop in one swap."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.touched: set[str] = set()
        self.removed: set[str] = set()
        self.folders_added: set[str] = set()
        self.folders_removed: set[str] = set()

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = event.event_type
        source = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if getattr(event, "dest_path", "") else ""
        with self.lock:
            if event.is_directory:
                if kind == "created":
                    self.folders_added.add(source)
                elif kind == "deleted":
                    self.folders_removed.add(source)
                elif kind == "moved":
                    self.folders_removed.add(source)
                    self.folders_added.add(dest)
                return
            if kind in ("created", "modified", "closed") and is_model_file(source):
                self.touched.add(source)
            elif kind == "deleted" and is_model_file(source):
                self.removed.add(source)
            elif kind == "moved":
                if is_model_file(source):
                    self.removed.add(source)
                if is_model_file(dest):
                    self.touched.add(dest)

    def take(self) -> tuple[set[str], set[str], set[str], set[str]]:
        with self.lock:
            taken = (self.touched, self.removed, self.folders_added, self.folders_removed)
            self._reset()
        return taken


@dataclass
class WatchCounts:
    """What the watcher did since it started (logged, and read by tests)."""

    staged: int = 0
    relinked: int = 0
    missing: int = 0
    restored: int = 0


class LibraryWatcher:
    """Watches ``roots`` ((type, folder) pairs, deepest first, as the scan uses them)."""

    def __init__(
        self,
        *,
        roots: list[tuple[str, str]],
        stable_seconds: float = STABLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        polling: bool = False,
        root_check_seconds: float = ROOT_CHECK_SECONDS,
    ):
        self.roots = roots
        self.stable_seconds = stable_seconds
        self.root_check_seconds = root_check_seconds
        self.clock = clock
        self.polling = polling
        self.events = _Events()
        self.counts = WatchCounts()
        # path -> (size, mtime_ns, when that stat was first seen)
        self.candidates: dict[str, tuple[int, int, float]] = {}
        self.observer = None
        self.watched: dict[str, object] = {}  # top folder -> watchdog watch
        self.present: dict[str, bool] = {}
        self.next_root_check = 0.0

    def top_folders(self) -> list[str]:
        """The roots not inside another root: each is watched recursively once."""
        folders = sorted({folder for _, folder in self.roots}, key=len)
        top: list[str] = []
        for folder in folders:
            if not any(folder.startswith(parent.rstrip(os.sep) + os.sep) for parent in top):
                top.append(folder)
        return top

    def start(self) -> None:
        self.observer = PollingObserver(timeout=1) if self.polling else Observer()
        self.observer.start()
        for folder in self.top_folders():
            self.present[folder] = os.path.isdir(folder)
            if self.present[folder]:
                self._watch(folder)
            else:
                logger.warning("Watch: root %s does not exist; watching for it to appear.", folder)
        self.next_root_check = self.clock() + self.root_check_seconds

    def _watch(self, folder: str) -> None:
        try:
            self.watched[folder] = self.observer.schedule(self.events, folder, recursive=True)
        except OSError as exc:
            # inotify has a per-user limit of watched folders; polling has none.
            logger.warning(
                "Watch: cannot watch %s (%s); it is polled every second instead. "
                "Raising fs.inotify.max_user_watches avoids this.",
                folder,
                exc.strerror or exc,
            )
            poller = PollingObserver(timeout=1)
            poller.schedule(self.events, folder, recursive=True)
            poller.start()
            self.watched[folder] = poller

    def stop(self) -> None:
        for watch in self.watched.values():
            if isinstance(watch, PollingObserver):
                watch.stop()
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)

    def run(self, stop: threading.Event, *, tick_seconds: float = TICK_SECONDS) -> None:
        """Watch until ``stop`` is set; database errors are logged and retried."""
        self.start()
        try:
            while not stop.wait(tick_seconds):
                try:
                    self.tick()
                except DatabaseError:
                    logger.warning("Watch: the database could not be reached; retrying.")
                    connections.close_all()
        finally:
            self.stop()
            connections.close_all()

    def tick(self) -> None:
        """One round: removed paths first (so a move relinks), then stable candidates."""
        now = self.clock()
        touched, removed, folders_added, folders_removed = self.events.take()
        if now >= self.next_root_check:
            self.next_root_check = now + self.root_check_seconds
            self._roots_check(folders_added)
        for folder in folders_added:
            for files in model_files_walk([("", folder)]):
                touched.update(found.path for found in files)
        if removed or folders_removed:
            self._verify(paths=removed)
            for folder in folders_removed:
                self._verify(under=folder)
            for path in removed:
                self.candidates.pop(path, None)
        for path in touched:
            self.candidates.setdefault(path, (-1, -1, now))
        self._stage_stable(now)

    def _roots_check(self, folders_added: set[str]) -> None:
        for folder in list(self.present):
            there = os.path.isdir(folder)
            if there == self.present[folder]:
                continue
            self.present[folder] = there
            if there:
                logger.info("Watch: root %s is back.", folder)
                self._unwatch(folder)
                self._watch(folder)
                self._verify(under=folder)
                folders_added.add(folder)
            else:
                logger.warning("Watch: root %s is gone; its files are marked missing.", folder)
                self._unwatch(folder)
                self._verify(under=folder)

    def _unwatch(self, folder: str) -> None:
        watch = self.watched.pop(folder, None)
        if watch is None:
            return
        try:
            if isinstance(watch, PollingObserver):
                watch.stop()
            else:
                self.observer.unschedule(watch)
        except (KeyError, OSError):
            pass  # the folder vanished under the observer already

    def _verify(self, *, paths: set[str] | None = None, under: str | None = None) -> None:
        report = locations_verify(paths=paths, under=under)
        self.counts.missing += report.missing
        self.counts.restored += report.restored

    def _stage_stable(self, now: float) -> None:
        """Stage the candidates whose stat has not changed for ``stable_seconds``."""
        ready: list[FoundFile] = []
        for path, (size, mtime_ns, since) in list(self.candidates.items()):
            try:
                info = os.stat(path)
            except OSError:
                del self.candidates[path]  # gone again before it was complete
                continue
            if (info.st_size, info.st_mtime_ns) != (size, mtime_ns):
                self.candidates[path] = (info.st_size, info.st_mtime_ns, now)
            elif now - since >= self.stable_seconds:
                ready.append(FoundFile(path, root_type_for(path, self.roots) or "", size, mtime_ns))
        for start in range(0, len(ready), STAGE_BATCH):
            batch = ready[start : start + STAGE_BATCH]
            # A copy put back where a missing location was is restored (or re-hashed).
            self._verify(paths={found.path for found in batch})
            try:
                result = found_files_stage(found=batch)
            except ServiceError as exc:  # a scan staged the same files: try again next round
                logger.info("Watch: %s", exc.message)
                return
            self.counts.staged += result.pending_added
            self.counts.relinked += result.relinked
            for found in batch:
                del self.candidates[found.path]
            if result.pending_added or result.relinked:
                logger.info(
                    "Watch: staged %d new file(s), relinked %d.",
                    result.pending_added,
                    result.relinked,
                )
