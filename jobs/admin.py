"""Admin of jobs: what runs, how far it got, how long it took; cancel."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from config.api import Conflict
from jobs.models import Job
from jobs.services import job_cancel


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "-"
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "kind",
        "state",
        "progress_bar",
        "message",
        "created_at",
        "waited",
        "ran",
        "worker",
        "error",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["kind", "message", "error", "worker"]
    actions = ["cancel_jobs"]
    readonly_fields = [field.name for field in Job._meta.fields]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are submitted through the API, the commands or the actions

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False

    @admin.display(description="progress")
    def progress_bar(self, job: Job) -> str:
        total = job.progress_total
        if not total:
            return f"{job.progress_done} {job.unit}"
        percent = min(100, int(job.progress_done * 100 / total))
        return format_html(
            '<progress max="100" value="{}" title="{} / {} {}"></progress> {}%',
            percent,
            job.progress_done,
            total,
            job.unit,
            percent,
        )

    @admin.display(description="waited")
    def waited(self, job: Job) -> str:
        end = job.started_at or (None if job.is_finished else timezone.now())
        return _duration(end - job.created_at if end else None)

    @admin.display(description="ran")
    def ran(self, job: Job) -> str:
        if job.started_at is None:
            return "-"
        return _duration((job.finished_at or timezone.now()) - job.started_at)

    @admin.action(description="Cancel the selected jobs")
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        cancelled, finished = 0, 0
        for job_id in queryset.values_list("pk", flat=True):
            try:
                job_cancel(job_id=job_id)
                cancelled += 1
            except Conflict:
                finished += 1
        if cancelled:
            self.message_user(
                request,
                f"{cancelled} job(s) cancelled (running ones stop at their next item).",
                messages.SUCCESS,
            )
        if finished:
            self.message_user(request, f"{finished} job(s) had already finished.", messages.WARNING)
