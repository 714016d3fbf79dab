"""The progress listener a job hands to a service: throttled writes, heartbeat, cancel check.

It implements ``config.progress.Progress``; the service never knows a job is
listening.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from jobs.kinds import JobCancelled, JobInterrupted
from jobs.models import Job

logger = logging.getLogger(__name__)

# Set when the worker process is asked to stop (SIGTERM, Ctrl-C): the running
# job stops at its next item boundary and is left for the next worker.
STOP_REQUESTED = threading.Event()


class JobProgress:
    """Writes ``progress``/``message`` to the job's row and refreshes its heartbeat.

    ``done`` never goes backwards: a resumed job starts counting from where the
    last attempt's record stood. Cancellation and a worker stop are noticed at
    the next write and raised at the next ``advance``, which services call at
    item boundaries, after the item is committed.
    """

    def __init__(self, job: Job, *, min_interval: float | None = None):
        self.job_id = job.pk
        self.floor = job.progress_done
        self.done = 0
        self.total: int | None = None
        self.text = job.message
        self.min_interval = (
            settings.JOBS_PROGRESS_MIN_INTERVAL if min_interval is None else min_interval
        )
        self.last_write = 0.0
        self.cancelled = False
        self.writes = 0

    def start(self, total: int | None) -> None:
        self.done = 0
        self.total = total
        self.flush()

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if time.monotonic() - self.last_write >= self.min_interval:
            self.flush()
        if self.cancelled:
            raise JobCancelled()
        if STOP_REQUESTED.is_set():
            raise JobInterrupted()

    def message(self, text: str) -> None:
        self.text = text[:1024]
        if time.monotonic() - self.last_write >= self.min_interval:
            self.flush()

    def flush(self) -> None:
        """Write progress and heartbeat now; read the cancel flag."""
        done = max(self.floor, self.done)
        total = self.total if self.total is None else max(self.total, done)
        Job.objects.filter(pk=self.job_id).update(
            progress_done=done,
            progress_total=total,
            message=self.text,
            heartbeat_at=timezone.now(),
        )
        self.cancelled = Job.objects.filter(pk=self.job_id, cancel_requested=True).exists()
        self.last_write = time.monotonic()
        self.writes += 1


class Heartbeat:
    """Refreshes a running job's heartbeat from a thread, also while one item runs for long.

    A single item (hashing a 20 GB file, rendering one image) can outlast any
    stale threshold; the heartbeat proves the process is alive, not that it advances.
    """

    def __init__(self, job_id: int, *, interval: float):
        self.job_id = job_id
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._beat, name=f"job-{job_id}-heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    Job.objects.filter(pk=self.job_id, state="running").update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError:
                    # A busy or briefly unreachable database: the next beat retries.
                    logger.warning("Job %s: heartbeat not written.", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection
