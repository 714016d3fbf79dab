"""The jobs admin: the list with progress and durations, the cancel action, the landing link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobs.models import Job

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/jobs/job/"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)


def test_list_shows_kind_state_progress_bar_durations_and_error(admin_client):
    now = timezone.now()
    Job.objects.create(
        kind="hash",
        state="running",
        unit="bytes",
        progress_done=250,
        progress_total=1000,
        started_at=now - timedelta(seconds=75),
        worker="nas-8000",
    )
    failed = Job.objects.create(kind="scan", state="failed", error="No model roots are configured.")
    Job.objects.filter(pk=failed.pk).update(
        started_at=now - timedelta(hours=2), finished_at=now - timedelta(minutes=50)
    )
    html = admin_client.get(CHANGELIST).content.decode()
    assert '<progress max="100" value="25"' in html and "25%" in html
    assert "1:15" in html or "1:16" in html  # ran for 75 s and counting
    assert "1:10:00" in html  # the failed job ran 70 minutes
    assert "No model roots are configured." in html and "nas-8000" in html
    filtered = admin_client.get(CHANGELIST + "?state__exact=failed")
    assert [job.kind for job in filtered.context["cl"].result_list] == ["scan"]
    assert admin_client.get(CHANGELIST + "add/").status_code == 403


def test_cancel_action_cancels_queued_and_flags_running(admin_client):
    queued = Job.objects.create(kind="scan")
    running = Job.objects.create(kind="hash", state="running")
    done = Job.objects.create(kind="promote", state="succeeded")
    response = admin_client.post(
        CHANGELIST,
        {"action": "cancel_jobs", "_selected_action": [queued.pk, running.pk, done.pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "2 job(s) cancelled" in html and "1 job(s) had already finished" in html
    queued.refresh_from_db(), running.refresh_from_db(), done.refresh_from_db()
    assert queued.state == "cancelled"
    assert running.state == "running" and running.cancel_requested
    assert done.state == "succeeded" and not done.cancel_requested


def test_landing_page_links_the_jobs_list(client):
    Job.objects.create(kind="scan")
    html = client.get("/", HTTP_HOST="localhost").content.decode()
    assert 'href="/admin/jobs/job/"' in html and "1 queued or running" in html
