"""The catalog admin's view of locations: an inline, a "file on disk" filter and column.

A mixin, so that catalog/admin.py only names it; a path a curator types is
recorded as a location through the same service as PATCH.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from catalog.locations import location_add
from catalog.models import CatalogModel, ModelLocation
from config.admin import epoch_ms_display


class ModelLocationInline(admin.TabularInline):
    """Every known copy of the file, read-only: verify and scans keep them current."""

    model = ModelLocation
    fields = ["path", "size", "missing", "missing_since_shown", "device", "inode"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["id"]
    verbose_name_plural = "locations (copies of the file on disk; the first present is the path)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="size")
    def size(self, location: ModelLocation) -> str:
        return filesizeformat(location.size_bytes)

    @admin.display(description="missing since")
    def missing_since_shown(self, location: ModelLocation) -> str:
        return epoch_ms_display(location.missing_since)


class OnDiskFilter(admin.SimpleListFilter):
    title = "file on disk"
    parameter_name = "on_disk"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "present"), ("no", "missing")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(missing=False)
        if self.value() == "no":
            return queryset.filter(missing=True)
        return queryset


class LocationAdminMixin:
    """Adds the locations inline, the "file on disk" filter and column to a
    catalog model admin."""

    def get_inlines(self, request: HttpRequest, obj: CatalogModel | None) -> list:
        return [ModelLocationInline, *super().get_inlines(request, obj)]

    def get_list_filter(self, request: HttpRequest) -> list:
        return [*super().get_list_filter(request), OnDiskFilter]

    def get_list_display(self, request: HttpRequest) -> list:
        return [*super().get_list_display(request), "on_disk"]

    @admin.display(description="on disk", boolean=True, ordering="missing")
    def on_disk(self, model: CatalogModel) -> bool:
        return not model.missing

    def save_model(self, request: HttpRequest, obj: CatalogModel, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "path" in form.changed_data and obj.path:
            # As PATCH does: the typed path becomes a location, and stays the path.
            location_add(model=obj, path=obj.path, keep_path=True)
