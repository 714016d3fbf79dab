"""manage.py jobs_worker [--worker-id ID]: run a job worker for the configured engine."""

from __future__ import annotations

import os
import socket

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from jobs.worker import RecoverySweep, sweep_interval


class Command(BaseCommand):
    help = (
        "Run a job worker: the embedded database engine's db_worker, or with JOBS_BACKEND=rq "
        "an RQ worker on REDIS_URL. Takes back jobs whose worker died, at start and every "
        "minute. SIGTERM or Ctrl-C stops it after the running job's current item."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--worker-id",
            default=os.environ.get("JOBS_WORKER_ID", ""),
            help="A name unique among the workers and stable across restarts (default: "
            "JOBS_WORKER_ID, else host:pid). With a stable id, a job this worker was running "
            "when it was killed is taken back as soon as it starts again.",
        )
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Run the queued jobs, then exit (for scripts and tests).",
        )

    def handle(self, *args, worker_id: str, burst: bool, **options) -> None:
        worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        if len(worker_id) > 64:
            raise CommandError("--worker-id must be at most 64 characters.")
        os.environ["JOBS_WORKER_ID"] = worker_id  # what Job.worker records
        sweep = RecoverySweep(worker_id=worker_id, interval=sweep_interval())
        sweep.start(periodic=not burst)
        verbosity = options["verbosity"]
        try:
            if settings.JOBS_BACKEND == "rq":
                self._rq(worker_id, burst, verbosity)
            else:
                self._db(worker_id, burst, verbosity)
        finally:
            sweep.stop()

    def _db(self, worker_id: str, burst: bool, verbosity: int) -> None:
        arguments = ["--no-reload", "--worker-id", worker_id, "--interval", "0.5"]
        if burst:
            arguments += ["--batch", "--no-startup-delay"]
        call_command("db_worker", *arguments, verbosity=verbosity)

    def _rq(self, worker_id: str, burst: bool, verbosity: int) -> None:
        arguments = [
            "default",
            "--job-class",
            "django_tasks_rq.Job",
            "--worker-class",
            "jobs.worker.DjangoRQWorker",
            "--name",
            worker_id,
        ]
        if burst:
            arguments.append("--burst")
        call_command("rqworker", *arguments, verbosity=verbosity)
