"""Job kinds of the staging area: scan, hash, legacy_import and promote, run as jobs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from jobs.models import Job
from jobs.services import job_cancel, job_execute, job_submit
from migration_app.models import PendingModel

pytestmark = pytest.mark.django_db(transaction=True)


def job_of(response) -> Job:
    return Job.objects.get(pk=response.json()["id"])


@pytest.fixture
def run_worker():
    def run() -> None:
        call_command("jobs_worker", "--burst", "--worker-id", "test-worker", verbosity=0)

    return run


def test_promotion_with_prefer_runs_as_a_job(api, make_pending, run_worker):
    pending = [
        make_pending(f"m{index}.safetensors", content=bytes([index]) * 10) for index in range(3)
    ]
    response = api.post(
        "/api/migration/import_models",
        {"id": [item.pk for item in pending] + [424242]},
        format="json",
        HTTP_PREFER="respond-async",
    )
    assert response.status_code == 202
    run_worker()
    job = job_of(response)
    assert job.state == "succeeded" and job.unit == "items"
    assert job.result["total"] == 4 and sorted(job.result["success"]) == [p.pk for p in pending]
    assert job.result["failed"][0]["id"] == 424242
    assert (job.progress_done, job.progress_total) == (4, 4)


def test_legacy_import_with_prefer_runs_as_a_job(api, legacy, run_worker):
    response = api.post(
        "/api/migration/migrate_legacy_db",
        {"legacy_db_path": str(legacy.db), "legacy_images_dir": str(legacy.images)},
        format="json",
        HTTP_PREFER="respond-async",
    )
    assert response.status_code == 202
    run_worker()
    job = job_of(response)
    assert job.state == "succeeded", job.error
    sync = api.post(
        "/api/migration/migrate_legacy_db",
        {"legacy_db_path": str(legacy.db), "legacy_images_dir": str(legacy.images)},
        format="json",
    ).json()
    # The job's result is the route's report; a second run then finds everything imported.
    assert set(job.result) == {"status", "db_migration", "image_migration"}
    assert job.result["db_migration"]["migrated"] > 0 and sync["db_migration"]["migrated"] == 0
    assert job.progress_done == job.progress_total > 0


def test_hash_job_hashes_only_unhashed_files_and_reports_bytes(make_pending, run_worker):
    first = make_pending("a.safetensors", content=b"a" * 3000)
    second = make_pending("b.safetensors", content=b"b" * 5000)
    PendingModel.objects.filter(pk=first.pk).update(sha256="f" * 64)  # hashed earlier
    job, created = job_submit(kind="hash", params={"workers": 2})
    assert created and job.unit == "bytes"
    run_worker()
    job.refresh_from_db()
    assert job.state == "succeeded", job.error
    # What was really read, and how many digests the hash cache answered.
    assert job.result == {
        "hashed": 1,
        "bytes": 5000,
        "bytes_read": 5000,
        "from_cache": 0,
        "failed": [],
    }
    assert (job.progress_done, job.progress_total) == (5000, 5000)
    second.refresh_from_db()
    assert second.sha256 == __import__("hashlib").sha256(b"b" * 5000).hexdigest()


def test_cancelled_promotion_keeps_the_items_it_finished(make_pending, monkeypatch, settings):
    """A user cancels while the second of four items is promoted: two are kept, two stay pending."""
    settings.JOBS_PROGRESS_MIN_INTERVAL = 0  # read the cancel flag at every item
    from migration_app.services import promotion

    pending = [make_pending(f"m{i}.safetensors", content=bytes([i]) * 10) for i in range(4)]
    job, _ = job_submit(kind="promote", params={"id": [item.pk for item in pending]})
    real_promote = promotion.pending_model_promote
    calls = []

    def promote_and_cancel_once(**kwargs):
        calls.append(kwargs["pending_id"])
        outcome = real_promote(**kwargs)
        if len(calls) == 2:
            job_cancel(job_id=job.pk)  # what POST /api/jobs/{id}/cancel does
        return outcome

    monkeypatch.setattr(promotion, "pending_model_promote", promote_and_cancel_once)
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == "cancelled" and job.finished_at is not None
    assert "finished items were kept" in job.message
    assert calls == [pending[0].pk, pending[1].pk]
    remaining = set(PendingModel.objects.values_list("pk", flat=True))
    assert remaining == {pending[2].pk, pending[3].pk}


def test_failed_job_records_one_sentence(tmp_path, settings, run_worker):
    folder = tmp_path / "gone"
    folder.mkdir()
    settings.MODEL_ROOTS = {"loras": [str(folder)]}
    job, _ = job_submit(kind="scan", params={})
    settings.MODEL_ROOTS = {}  # the roots disappear before the worker runs it
    run_worker()
    job.refresh_from_db()
    assert job.state == "failed" and job.error.startswith("No model roots are configured.")
    assert job.result is None
