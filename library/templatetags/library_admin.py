"""The stats block of the admin's index page."""

from __future__ import annotations

from typing import Any

from django import template

from library.selectors import library_stats

register = template.Library()


@register.inclusion_tag("admin/library/stats_block.html", takes_context=True)
def library_stats_block(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    # Staff without the right to view library health see the index without it.
    if user is None or not user.has_perm("library.view_libraryhealth"):
        return {"stats": None}
    return {"stats": library_stats()}
