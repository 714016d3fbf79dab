"""A command's ``--background``: submit the same work as a job, say where to follow it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from config.api import ServiceError
from jobs.services import job_submit

BACKGROUND_HELP = (
    "Submit the work as a job for the job worker and return at once "
    "(follow it at /api/jobs/ID or in the admin's Jobs list)."
)


def submit_from_command(command: BaseCommand, *, kind: str, params: dict[str, Any]) -> None:
    """Submit a job for ``command`` and print its id; CommandError for bad params."""
    try:
        job, created = job_submit(kind=kind, params=params)
    except ServiceError as exc:
        raise CommandError(exc.message) from None
    verb = "Submitted" if created else "Already queued or running:"
    command.stdout.write(
        f"{verb} {kind} job {job.pk}; follow it at /api/jobs/{job.pk} or in the admin (Jobs)."
    )
