"""Submitting, running, cancelling and recovering jobs.

The engine (django-tasks-db or RQ) runs ``jobs.tasks.run_job(job_id)``; every
decision about a job's state is taken here, against the Job row.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from config.api import Conflict, InvalidInput, NotConfigured, NotFound, validated
from jobs.kinds import JobCancelled, JobInterrupted, JobKind, kind_get
from jobs.models import ACTIVE_STATES, Job, JobState
from jobs.progress import Heartbeat, JobProgress

logger = logging.getLogger(__name__)


def worker_name() -> str:
    """This process as it appears in ``Job.worker``: the worker id, else host:pid."""
    return os.environ.get("JOBS_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"


def job_params_clean(*, kind: JobKind, params: Any) -> dict[str, Any]:
    """Validated params as plain JSON; InvalidInput (400) when they are not valid."""
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidInput(
            "params must be a JSON object.", fields={"params": ["Must be an object."]}
        )
    clean = validated(kind.params, params)
    return json.loads(json.dumps(clean, cls=DjangoJSONEncoder))


def job_submit(*, kind: str, params: Any = None) -> tuple[Job, bool]:
    """Create a queued job and hand its id to the engine once committed.

    Returns ``(job, created)``: for a deduplicated kind, an identical job that
    is still queued or running is returned instead (``created`` False).
    Raises InvalidInput for an unknown kind or bad params (nothing written),
    NotConfigured when the engine cannot take the job (the job ends failed).
    """
    job_kind = kind_get(kind)
    clean = job_params_clean(kind=job_kind, params=params)
    key = json.dumps(clean, sort_keys=True)[:512] if job_kind.dedupe else ""
    with transaction.atomic():
        if key:
            existing = _active_duplicate(job_kind.name, key)
            if existing is not None:
                return existing, False
        try:
            with transaction.atomic():
                job = Job.objects.create(
                    kind=job_kind.name, params=clean, dedupe_key=key, unit=job_kind.unit
                )
        except IntegrityError:
            # Another request created the same job a moment ago.
            return _active_duplicate(job_kind.name, key), False
        transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
    job.refresh_from_db()
    if job.state == JobState.FAILED:
        raise NotConfigured(job.error, code="job_engine_unavailable")
    return job, True


def _active_duplicate(kind: str, key: str) -> Job | None:
    return Job.objects.filter(kind=kind, dedupe_key=key, state__in=ACTIVE_STATES).first()


def job_enqueue(*, job_id: int) -> None:
    """Give the job to the configured engine; a refusal fails the job with the reason."""
    from jobs.tasks import run_job

    try:
        task_result = run_job.enqueue(job_id)
    except Exception as exc:  # noqa: BLE001 - any engine failure (Redis down, ...) ends here
        logger.exception("Job %s could not be queued.", job_id)
        Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
            state=JobState.FAILED,
            error=f"The job engine ({settings.JOBS_BACKEND}) did not take the job: {exc}.",
            finished_at=timezone.now(),
        )
        return
    Job.objects.filter(pk=job_id).update(task_id=str(task_result.id)[:64])


def job_get(*, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No job has id {job_id}.", code="job_not_found")
    return job


def job_cancel(*, job_id: int) -> Job:
    """Cancel a job: a queued one at once, a running one at its next item boundary.

    Raises NotFound for an unknown id and Conflict (409) for a finished job.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise NotFound(f"No job has id {job_id}.", code="job_not_found")
        if job.is_finished:
            raise Conflict(
                f"Job {job_id} has already finished ({job.state}); there is nothing to cancel.",
                code="job_finished",
            )
        job.cancel_requested = True
        fields = ["cancel_requested"]
        if job.state == JobState.QUEUED:
            job.state = JobState.CANCELLED
            job.finished_at = timezone.now()
            job.message = "Cancelled before it started."
            fields += ["state", "finished_at", "message"]
        job.save(update_fields=fields)
    return job


def job_execute(*, job_id: int) -> None:
    """Run one job in this process (called by the engine's task with the job id).

    Claims the job (queued -> running) so that a second delivery of the same
    id does nothing, runs its kind with a progress listener and a heartbeat,
    and records how it ended. Never raises for a failure of the work itself.
    """
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING,
        started_at=now,
        heartbeat_at=now,
        worker=worker_name()[:128],
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return  # cancelled while queued, or already taken by another delivery
    job = Job.objects.get(pk=job_id)
    listener = JobProgress(job)
    try:
        kind = kind_get(job.kind)
        with Heartbeat(job_id, interval=settings.JOBS_HEARTBEAT_SECONDS):
            if job.cancel_requested:
                raise JobCancelled()
            result = kind.run(params=job.params, progress=listener)
    except JobCancelled:
        _finish(listener, JobState.CANCELLED, message=_cancelled_message(listener))
    except JobInterrupted:
        _finish_interrupted(job, listener, "its worker was stopped")
    except Exception as exc:  # noqa: BLE001 - the job records every failure
        _finish(listener, JobState.FAILED, error=_error_sentence(exc))
    else:
        _finish(listener, JobState.SUCCEEDED, result=result, message="")


def _cancelled_message(listener: JobProgress) -> str:
    done = max(listener.floor, listener.done)
    return f"Cancelled after {done} {{unit}}; finished items were kept."


def _error_sentence(exc: Exception) -> str:
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:
        return message  # a ServiceError: already one sentence for a user
    logger.exception("Job failed unexpectedly.")
    return f"Unexpected error: {type(exc).__name__}: {exc}. The worker's log has the details."


def _finish(listener: JobProgress, state: str, **values: Any) -> None:
    # The final write may come after hours of file work: a dropped connection
    # must not lose it.
    close_old_connections()
    listener.flush()
    job = Job.objects.get(pk=listener.job_id)
    if "message" in values:
        values["message"] = values["message"].replace("{unit}", job.unit)
    if state == JobState.SUCCEEDED and job.progress_total is not None:
        values["progress_done"] = max(job.progress_done, job.progress_total)
    Job.objects.filter(pk=listener.job_id, state=JobState.RUNNING).update(
        state=state, finished_at=timezone.now(), heartbeat_at=timezone.now(), **values
    )


def _finish_interrupted(job: Job, listener: JobProgress, why: str) -> None:
    close_old_connections()
    listener.flush()
    with transaction.atomic():
        _requeue_or_fail(Job.objects.select_for_update().get(pk=job.pk), why)


def _requeue_or_fail(job: Job, why: str) -> None:
    """A running job whose worker is gone: queue it again, or fail it as interrupted."""
    if job.state != JobState.RUNNING:
        return
    try:
        resumable = kind_get(job.kind).resumable
    except InvalidInput:
        resumable = False
    if job.cancel_requested:
        job.state, job.message = JobState.CANCELLED, f"Cancelled; {why}."
    elif resumable and job.attempts < settings.JOBS_MAX_ATTEMPTS:
        job.state, job.message, job.worker = JobState.QUEUED, f"Queued again: {why}.", ""
        job.save(update_fields=["state", "message", "worker"])
        transaction.on_commit(lambda: job_enqueue(job_id=job.pk))
        logger.warning("Job %s queued again: %s.", job.pk, why)
        return
    else:
        job.state = JobState.FAILED
        job.error = (
            f"Interrupted: {why} while the job was running"
            + ("" if resumable else " and this kind cannot resume; what it finished was kept")
            + ("; it was tried too often" if resumable else "")
            + ". Submit it again."
        )
    job.finished_at = timezone.now()
    job.save(update_fields=["state", "message", "error", "finished_at"])
    logger.warning("Job %s ended %s: %s.", job.pk, job.state, why)


def _engine_task_abandon(task_id: str) -> None:
    """Mark the database engine's row of a dead worker's task failed.

    django-tasks-db leaves it RUNNING forever otherwise, and never prunes it.
    """
    if settings.JOBS_BACKEND != "db" or not task_id:
        return
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=task_id, status="RUNNING").update(
        status="FAILED", finished_at=timezone.now()
    )


def jobs_recover(*, worker_id: str | None = None) -> int:
    """Take back running jobs whose worker is gone; the number of jobs taken back.

    A job is orphaned when its heartbeat is older than JOBS_STALE_SECONDS, or,
    at a worker's start, when it was claimed by that same (stable) worker id:
    that worker died before finishing it. Resumable kinds are queued again (up
    to JOBS_MAX_ATTEMPTS tries), the others end failed as interrupted.
    """
    stale = timezone.now() - timedelta(seconds=settings.JOBS_STALE_SECONDS)
    orphaned = Q(heartbeat_at__lt=stale) | Q(heartbeat_at__isnull=True, started_at__lt=stale)
    if worker_id:
        orphaned |= Q(worker=worker_id)
    ids = list(Job.objects.filter(orphaned, state=JobState.RUNNING).values_list("pk", flat=True))
    for job_id in ids:
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=job_id)
            _engine_task_abandon(job.task_id)
            _requeue_or_fail(job, "its worker stopped (killed, crashed or lost)")
    return len(ids)
