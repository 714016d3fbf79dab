"""The admin's Library health page: stats, duplicates, missing models, and verify.

One page instead of a changelist: duplicates are groups of paths sorted by the
bytes they waste, which a list of rows cannot show. Verify is submitted as a
job (the same kind as POST /api/library/verify with respond-async).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.api import ServiceError
from jobs.services import job_submit
from library.models import LibraryHealth
from library.selectors import duplicates_report, library_stats

HEALTH_TEMPLATE = "admin/library/health.html"
# Groups shown on the page; the API lists them all.
GROUPS_SHOWN = 200


@admin.register(LibraryHealth)
class LibraryHealthAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_urls(self) -> list:
        verify = self.admin_site.admin_view(self.verify_view)
        return [path("verify/", verify, name="library_libraryhealth_verify"), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        report = duplicates_report()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Library health",
            "stats": library_stats(),
            "groups": report["groups"][:GROUPS_SHOWN],
            "groups_total": len(report["groups"]),
            "total_reclaimable_bytes": report["total_reclaimable_bytes"],
            "catalog_changelist": reverse("admin:catalog_catalogmodel_changelist"),
        }
        return TemplateResponse(request, HEALTH_TEMPLATE, context)

    def verify_view(self, request: HttpRequest) -> HttpResponse:
        """POST: submit a verify job and say where to follow it."""
        target = reverse("admin:library_libraryhealth_changelist")
        if request.method != "POST":
            return HttpResponseRedirect(target)
        try:
            job, created = job_submit(kind="verify", params={})
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(target)
        verb = "Verify job submitted" if created else "A verify job is already queued or running"
        self.message_user(
            request,
            f"{verb} (job {job.pk}); its progress is in Jobs. Reload this page when it is done.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(target)
