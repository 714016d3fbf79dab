"""What runs around the engines' own workers: stop requests, the recovery sweep, RQ's fork.

The engines do the queueing and the worker loop; this module only adds what
they lack (docs/jobs.md): a stop that lets a long job end at an item boundary
and be taken up again, a periodic sweep for jobs whose worker died, and DB
connections closed before RQ forks a work-horse.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from rq.worker import Worker as RQWorker

from jobs.progress import STOP_REQUESTED
from jobs.services import jobs_recover

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

# Held by the recovery sweep while it talks to the database and the broker, and
# by the RQ worker while it forks: a fork while another thread is inside
# SQLite, libpq or redis-py can copy a held lock into the work-horse, which
# then blocks forever on its first query (a CI run on SQLite showed a
# re-queued job whose horse never made progress, which fits this).
FORK_GUARD = threading.Lock()


@contextmanager
def stop_requests_noted() -> Iterator[None]:
    """While a job runs, SIGTERM or Ctrl-C also asks the job to stop at its next item.

    The previous handler still runs when it is a function (the database
    worker's graceful shutdown; a second signal there forces the exit). In an
    RQ work-horse the previous handler is the default one, which is not
    chained: the job ends at its boundary and the horse exits normally.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}

    def note_stop(number: int, frame: Any) -> None:
        STOP_REQUESTED.set()
        handler = previous.get(number)
        if callable(handler):
            handler(number, frame)

    for number in STOP_SIGNALS:
        signal.signal(number, note_stop)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class RecoverySweep:
    """Runs ``jobs_recover`` now and then every ``interval`` seconds, on a daemon thread."""

    def __init__(self, *, worker_id: str, interval: float):
        self.worker_id = worker_id
        self.interval = interval
        self.stopped = threading.Event()

    def start(self, *, periodic: bool = True) -> None:
        self.sweep(worker_id=self.worker_id)
        if periodic:
            threading.Thread(target=self._loop, name="jobs-recovery-sweep", daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()

    def _loop(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sweep()
        connections.close_all()

    def sweep(self, worker_id: str | None = None) -> None:
        with FORK_GUARD:
            try:
                taken = jobs_recover(worker_id=worker_id)
            except DatabaseError:
                logger.warning(
                    "The job recovery sweep could not reach the database.", exc_info=True
                )
                return
            finally:
                if threading.current_thread() is not threading.main_thread():
                    connections.close_all()
        if taken:
            logger.warning("Took back %d job(s) whose worker had stopped.", taken)


def sweep_interval() -> float:
    """Every minute, or more often when jobs are declared stale sooner."""
    return min(60.0, max(1.0, settings.JOBS_STALE_SECONDS / 2))


class DjangoRQWorker(RQWorker):
    """RQ's forking worker, closing Django's connections before each fork.

    A connection opened in the parent (a failure callback) must never be
    shared with a work-horse: PostgreSQL connections break when two processes
    use one socket. The fork waits for a recovery sweep in progress
    (``FORK_GUARD``).
    """

    def execute_job(self, *args: Any, **kwargs: Any) -> Any:
        connections.close_all()
        return super().execute_job(*args, **kwargs)

    def fork_work_horse(self, *args: Any, **kwargs: Any) -> Any:
        with FORK_GUARD:
            return super().fork_work_horse(*args, **kwargs)
