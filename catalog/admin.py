"""Curating the catalog in the admin: list, filter, search, edit names, types and tags.

A plain ModelAdmin on purpose: imaging/admin.py extends it with an image inline
and a thumbnail column (it reads ``inlines``, ``list_display`` and
``list_display_links`` and calls ``get_queryset`` through ``super()``).
"""

from __future__ import annotations

import json

from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html

from catalog.curation_admin import CurationAdminMixin
from catalog.location_admin import LocationAdminMixin
from catalog.models import CatalogModel, FileHash
from catalog.sidecar_admin import HasSidecarsFilter, sidecars_summary
from config.admin import epoch_ms_display
from tags.models import Tag

# Read from the file's header (docs/file-intelligence.md).
FILE_INFO_FIELDS = [
    "architecture",
    "base_model",
    "kind",
    "autov1",
    "autov2",
    "autov3",
    "tensor_sha256",
]


@admin.register(CatalogModel)
class CatalogModelAdmin(CurationAdminMixin, LocationAdminMixin, admin.ModelAdmin):
    list_display = [
        "display_name",
        "type",
        "base_model",
        "architecture",
        "kind",
        "human_size",
        "tag_names",
    ]
    list_display_links = ["display_name"]
    list_filter = [
        "type",
        "base_model",
        "architecture",
        "kind",
        ("tags", admin.RelatedOnlyFieldListFilter),
        HasSidecarsFilter,
    ]
    # ^ the hash: a pasted prefix or full sha256 in any case finds the model;
    # = the short hashes images and model sites quote (AutoV1/V2/V3).
    search_fields = ["name", "path", "^sha256", "=autov1", "=autov2", "=autov3", "=tensor_sha256"]
    autocomplete_fields = ["tags"]
    list_per_page = 100
    inlines: list = []
    fieldsets = [
        (None, {"fields": ["sha256", "name", "type", "path", "tags"]}),
        ("File", {"fields": ["size_bytes", "created"]}),
        (
            "What the file says about itself",
            {"fields": [*FILE_INFO_FIELDS, "file_record"], "classes": ["collapse"]},
        ),
        (
            "Metadata",
            {
                "fields": [
                    "description",
                    "community_links",
                    "prompt_positive",
                    "prompt_negative",
                    "extra_meta",
                ]
            },
        ),
        ("Sidecars other tools wrote beside the file", {"fields": ["sidecars"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CatalogModel]:
        # One query for the tags of a whole page, not one per row.
        tags = Prefetch("tags", queryset=Tag.objects.order_by(Lower("name"), "id"))
        return super().get_queryset(request).prefetch_related(tags)

    def get_readonly_fields(self, request: HttpRequest, obj: CatalogModel | None = None):
        # The sha256 is the identity of the file's bytes: set once, never edited.
        # created_at is epoch milliseconds (the API's form): shown as a date instead.
        # The file-info fields come from the file's header: read, never typed.
        readonly = ["created", *FILE_INFO_FIELDS, "file_record", "sidecars"]
        return ["sha256", *readonly] if obj is not None else readonly

    @admin.display(description="name", ordering="name")
    def display_name(self, model: CatalogModel) -> str:
        return model.display_name

    @admin.display(description="size", ordering="size_bytes")
    def human_size(self, model: CatalogModel) -> str:
        return filesizeformat(model.size_bytes)

    @admin.display(description="tags")
    def tag_names(self, model: CatalogModel) -> str:
        return ", ".join(tag.name for tag in model.tags.all())

    @admin.display(description="file record")
    def file_record(self, model: CatalogModel) -> str:
        return format_html("<pre>{}</pre>", json.dumps(model.file_info, indent=2)[:100_000])

    @admin.display(description="created", ordering="created_at")
    def created(self, model: CatalogModel) -> str:
        return epoch_ms_display(model.created_at)

    @admin.display(description="sidecars")
    def sidecars(self, model: CatalogModel) -> str:
        return sidecars_summary(model)


@admin.register(FileHash)
class FileHashAdmin(admin.ModelAdmin):
    """Remembered digests of files on disk; read-only, for diagnosing re-hashing."""

    list_display = ["path", "sha256", "tensor_sha256", "size_bytes", "hashed_at"]
    search_fields = ["path", "^sha256"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FileHash | None = None) -> bool:
        return False
