"""The job routes through HTTP, with jobs run by the real embedded engine's worker."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from jobs.models import Job
from jobs.tests.conftest import job_of
from migration_app.models import PendingModel

pytestmark = pytest.mark.django_db(transaction=True)


def test_scan_job_runs_and_answers_the_scan_report(api, loras, run_worker):
    response = api.post("/api/jobs", {"kind": "scan", "params": {"type": "loras"}}, format="json")
    assert response.status_code == 202
    body = response.json()
    assert response["Location"] == f"/api/jobs/{body['id']}"
    assert body["state"] == "queued" and body["kind"] == "scan"
    assert body["params"] == {"type": "loras"}
    assert body["progress"] == {"done": 0, "total": None, "unit": "files"}
    assert body["started_at"] is None and isinstance(body["created_at"], int)

    run_worker()

    job = api.get(body["id"] and f"/api/jobs/{body['id']}").json()
    assert job["state"] == "succeeded", job
    assert job["result"]["scanned"] == 3 and job["result"]["pending_added"] == 3
    assert sorted(job["result"]["pending_ids"]) == sorted(
        PendingModel.objects.values_list("pk", flat=True)
    )
    assert job["progress"]["done"] == 3
    assert job["worker"] == "test-worker" and job["finished_at"] >= job["started_at"]


def test_unknown_kind_and_bad_params_are_400_and_create_nothing(api, loras):
    unknown = api.post("/api/jobs", {"kind": "defrag"}, format="json")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_job_kind"
    bad = api.post("/api/jobs", {"kind": "hash", "params": {"workers": 0}}, format="json")
    assert bad.status_code == 400 and "workers" in bad.json()["fields"]
    bad_type = api.post("/api/jobs", {"kind": "scan", "params": {"type": "nope"}}, format="json")
    assert bad_type.status_code == 400 and bad_type.json()["code"] == "unknown_type"
    not_object = api.post("/api/jobs", {"kind": "scan", "params": [1]}, format="json")
    assert not_object.status_code == 400
    missing = api.post("/api/jobs", {"kind": "legacy_import", "params": {}}, format="json")
    assert missing.status_code == 400
    nowhere = api.post(
        "/api/jobs",
        {"kind": "legacy_import", "params": {"legacy_db_path": "/nonexistent.db"}},
        format="json",
    )
    assert nowhere.status_code == 400 and nowhere.json()["code"] == "legacy_db_not_found"
    assert Job.objects.count() == 0


def test_identical_scan_while_queued_answers_the_same_job(api, loras):
    first = api.post("/api/jobs", {"kind": "scan", "params": {}}, format="json")
    second = api.post("/api/jobs", {"kind": "scan", "params": {"type": None}}, format="json")
    other = api.post("/api/jobs", {"kind": "scan", "params": {"type": "loras"}}, format="json")
    assert first.status_code == 202 and second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert other.status_code == 202 and other.json()["id"] != first.json()["id"]
    # Promotions are never merged: two submissions are two jobs.
    promote = {"kind": "promote", "params": {"id": [1]}}
    assert api.post("/api/jobs", promote, format="json").status_code == 202
    assert api.post("/api/jobs", promote, format="json").status_code == 202


def test_a_finished_job_no_longer_blocks_a_new_identical_one(api, loras, run_worker):
    first = api.post("/api/jobs", {"kind": "scan", "params": {}}, format="json").json()
    run_worker()
    again = api.post("/api/jobs", {"kind": "scan", "params": {}}, format="json")
    assert again.status_code == 202 and again.json()["id"] != first["id"]


def test_cancel_queued_job_at_once_then_409(api, loras, run_worker):
    job = api.post("/api/jobs", {"kind": "scan", "params": {}}, format="json").json()
    cancelled = api.post(f"/api/jobs/{job['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled" and cancelled.json()["finished_at"]
    run_worker()
    assert PendingModel.objects.count() == 0  # never ran
    again = api.post(f"/api/jobs/{job['id']}/cancel")
    assert again.status_code == 409 and again.json()["code"] == "job_finished"
    assert api.post("/api/jobs/999999/cancel").status_code == 404


def test_list_newest_first_with_filters_and_paging(api, loras, run_worker):
    ids = [
        api.post("/api/jobs", {"kind": "scan", "params": {}}, format="json").json()["id"],
        api.post("/api/jobs", {"kind": "hash", "params": {}}, format="json").json()["id"],
        api.post("/api/jobs", {"kind": "rebuild_renditions"}, format="json").json()["id"],
    ]
    listing = api.get("/api/jobs").json()
    assert [job["id"] for job in listing["jobs"]] == ids[::-1] and listing["total"] == 3
    page = api.get("/api/jobs?limit=1&offset=1").json()
    assert [job["id"] for job in page["jobs"]] == [ids[1]] and page["total"] == 3
    assert [job["id"] for job in api.get("/api/jobs?kind=hash").json()["jobs"]] == [ids[1]]
    run_worker()
    assert api.get("/api/jobs?state=queued").json() == {"jobs": [], "total": 0}
    assert api.get("/api/jobs?state=succeeded").json()["total"] == 3
    assert api.get("/api/jobs?state=bogus").status_code == 400
    assert api.get("/api/jobs?limit=-1").status_code == 400
    assert api.get("/api/jobs/999999").status_code == 404


def test_prefer_respond_async_on_scan(api, loras, run_worker):
    response = api.post(
        "/api/models/scan", {"type": "loras"}, format="json", HTTP_PREFER="respond-async, wait=5"
    )
    assert response.status_code == 202
    assert response["Preference-Applied"] == "respond-async"
    assert response["Location"] == f"/api/jobs/{response.json()['id']}"
    assert PendingModel.objects.count() == 0  # nothing done inside the request
    run_worker()
    job = job_of(response)
    assert job.state == "succeeded" and job.result["pending_added"] == 3
    # Without the header the route answers as it always did.
    plain = api.post("/api/models/scan", {}, format="json")
    assert plain.status_code == 200 and plain.json()["skipped"] == 3
    assert "Preference-Applied" not in plain


def test_prefer_respond_async_with_bad_params_is_400(api, loras):
    response = api.post(
        "/api/models/scan", {"type": "nope"}, format="json", HTTP_PREFER="respond-async"
    )
    assert response.status_code == 400 and Job.objects.count() == 0


def test_token_mode_staff_submits_and_cancels_anyone_reads(api, settings, loras):
    settings.API_AUTH = "token"
    alice = User.objects.create_user("alice")
    boss = User.objects.create_user("boss", is_staff=True)
    alice_token, boss_token = Token.objects.create(user=alice), Token.objects.create(user=boss)
    assert api.get("/api/jobs").status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token.key}")
    refused = api.post("/api/jobs", {"kind": "scan"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "staff_required"
    api.credentials(HTTP_AUTHORIZATION=f"Token {boss_token.key}")
    job = api.post("/api/jobs", {"kind": "scan"}, format="json").json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {alice_token.key}")
    assert api.get(f"/api/jobs/{job['id']}").status_code == 200
    assert api.get("/api/jobs").json()["total"] == 1
    assert api.post(f"/api/jobs/{job['id']}/cancel").status_code == 403
    api.credentials(HTTP_AUTHORIZATION=f"Token {boss_token.key}")
    assert api.post(f"/api/jobs/{job['id']}/cancel").json()["state"] == "cancelled"


def test_engine_refusal_fails_the_job_with_a_clear_503(api, loras, settings):
    """RQ chosen but no Redis listening: the job ends failed and the submitter is told why."""
    settings.JOBS_BACKEND = "rq"
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:1/0", "DEFAULT_TIMEOUT": -1}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    response = api.post("/api/jobs", {"kind": "scan"}, format="json")
    assert response.status_code == 503 and response.json()["code"] == "job_engine_unavailable"
    assert "rq" in response.json()["error"] and "did not take the job" in response.json()["error"]
    job = Job.objects.get()
    assert job.state == "failed" and job.finished_at is not None


def test_commands_submit_themselves_with_background(loras, run_worker, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    call_command("scan", "--background", "--hash")
    out = capsys.readouterr().out
    assert "Submitted scan job" in out and "Submitted hash job" in out
    assert PendingModel.objects.count() == 0
    run_worker()
    assert [job.state for job in Job.objects.order_by("pk")] == ["succeeded", "succeeded"]
    assert not PendingModel.objects.filter(sha256="").exists()
    with pytest.raises(CommandError, match="No file at /nope.db"):
        call_command("migrate_legacy", "/nope.db", "--background")
    call_command("rebuild_renditions", "--background")
    assert "Submitted rebuild_renditions job" in capsys.readouterr().out
