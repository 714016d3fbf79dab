"""Jobs whose worker died are taken back; the progress listener's rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobs.kinds import JobCancelled
from jobs.models import Job
from jobs.progress import JobProgress
from jobs.services import job_submit, jobs_recover

pytestmark = pytest.mark.django_db(transaction=True)


def running(job: Job, *, seconds_ago: int, worker: str = "host:1") -> Job:
    beat = timezone.now() - timedelta(seconds=seconds_ago)
    Job.objects.filter(pk=job.pk).update(
        state="running", started_at=beat, heartbeat_at=beat, worker=worker, attempts=1
    )
    job.refresh_from_db()
    return job


def test_stale_resumable_job_is_queued_again_with_a_new_task(loras, run_worker, settings):
    job, _ = job_submit(kind="scan", params={})
    old_task = Job.objects.get(pk=job.pk).task_id
    DBTaskResult.objects.filter(id=old_task).update(status="RUNNING")  # what a killed worker leaves
    running(job, seconds_ago=settings.JOBS_STALE_SECONDS + 5)
    assert jobs_recover() == 1
    job.refresh_from_db()
    assert job.state == "queued" and "Queued again" in job.message
    assert job.task_id != old_task
    assert DBTaskResult.objects.get(id=old_task).status == "FAILED"
    run_worker()
    job.refresh_from_db()
    assert job.state == "succeeded" and job.attempts == 2 and job.result["pending_added"] == 3


def test_fresh_heartbeat_is_left_alone_but_same_worker_id_at_start_is_taken_back(loras):
    job, _ = job_submit(kind="scan", params={})
    running(job, seconds_ago=1, worker="host-8000")
    assert jobs_recover() == 0
    assert jobs_recover(worker_id="other") == 0
    assert jobs_recover(worker_id="host-8000") == 1
    assert Job.objects.get(pk=job.pk).state == "queued"


def test_stale_promotion_fails_as_interrupted(settings, make_model):
    job, _ = job_submit(kind="promote", params={"id": [1, 2]})
    running(job, seconds_ago=settings.JOBS_STALE_SECONDS + 5)
    jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed" and job.finished_at is not None
    assert job.error.startswith("Interrupted:") and "cannot resume" in job.error


def test_resumable_job_fails_after_max_attempts(loras, settings):
    job, _ = job_submit(kind="scan", params={})
    running(job, seconds_ago=settings.JOBS_STALE_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(attempts=settings.JOBS_MAX_ATTEMPTS)
    jobs_recover()
    job.refresh_from_db()
    assert job.state == "failed" and "tried too often" in job.error


def test_cancel_requested_then_worker_lost_ends_cancelled(loras, settings):
    job, _ = job_submit(kind="scan", params={})
    running(job, seconds_ago=settings.JOBS_STALE_SECONDS + 5)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    jobs_recover()
    assert Job.objects.get(pk=job.pk).state == "cancelled"


def test_progress_never_goes_backwards_and_is_throttled(loras):
    job, _ = job_submit(kind="scan", params={})
    Job.objects.filter(pk=job.pk).update(state="running", progress_done=40)
    job.refresh_from_db()
    listener = JobProgress(job, min_interval=3600)  # a resumed attempt
    listener.start(100)
    for _ in range(10):
        listener.advance(1)
    assert listener.writes == 1  # start wrote; advances within the interval did not
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total) == (40, 100) and job.heartbeat_at
    listener.done = 70
    listener.flush()
    job.refresh_from_db()
    assert job.progress_done == 70


def test_listener_raises_cancelled_at_the_next_item_once_flag_is_read(loras):
    job, _ = job_submit(kind="scan", params={})
    listener = JobProgress(job, min_interval=0)
    listener.start(None)
    listener.advance()
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    with pytest.raises(JobCancelled):
        listener.advance()
