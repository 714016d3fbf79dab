"""Reads of jobs for the API and the admin."""

from __future__ import annotations

from django.db.models import QuerySet

from jobs.models import Job


def job_list(
    *, state: str | None = None, kind: str | None = None, limit: int | None, offset: int = 0
) -> tuple[list[Job], int]:
    """Jobs newest first with the total matching the filters."""
    jobs: QuerySet[Job] = Job.objects.all()
    if state:
        jobs = jobs.filter(state=state)
    if kind:
        jobs = jobs.filter(kind=kind)
    total = jobs.count()
    window = jobs[offset : offset + limit] if limit is not None else jobs[offset:]
    return list(window), total
