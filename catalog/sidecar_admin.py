"""Admin pieces for sidecars, shared by the catalog and pending model admins:
the "has sidecars" list filter and the sources and warnings on the change page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

# A record with at least one sidecar that gave something, or a preview.
HAS_SIDECARS = Q(file_info__sidecars__sources__0__isnull=False) | Q(
    file_info__sidecars__previews__0__isnull=False
)


class HasSidecarsFilter(admin.SimpleListFilter):
    title = "has sidecars"
    parameter_name = "has_sidecars"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(HAS_SIDECARS)
        if self.value() == "no":
            return queryset.exclude(HAS_SIDECARS)
        return queryset


def sidecars_summary(obj: Any) -> SafeString | str:
    """The sources, previews, fields taken over and warnings of ``file.sidecars``."""
    record = (obj.file_info or {}).get("sidecars") if obj is not None else None
    if not isinstance(record, dict) or not record:
        return "No sidecar or preview beside the file."
    rows = [
        ("Sources", ", ".join(record.get("sources") or []) or "none"),
        ("Previews", ", ".join(record.get("previews") or []) or "none"),
    ]
    if record.get("applied"):
        rows.append(("Taken over", ", ".join(record["applied"])))
    warnings = record.get("warnings") or []
    items = format_html_join("", "<li>{}</li>", ((warning,) for warning in warnings))
    return format_html(
        "<dl>{}</dl><p>Warnings: {}</p>{}",
        format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows),
        len(warnings),
        format_html("<ul>{}</ul>", items) if warnings else "",
    )
