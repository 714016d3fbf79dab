"""The one task the engines run: a job, by id."""

from __future__ import annotations

from django.db import connections

from jobs.compat import task
from jobs.services import job_execute
from jobs.worker import stop_requests_noted


@task()
def run_job(job_id: int) -> None:
    """Run job ``job_id``. State, progress and result go to the Job row, not the engine's."""
    try:
        with stop_requests_noted():
            job_execute(job_id=job_id)
    finally:
        # An RQ work-horse leaves with os._exit: close cleanly, and never let a
        # later fork inherit this connection.
        connections.close_all()
