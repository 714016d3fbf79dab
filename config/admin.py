"""The admin site as the model library's: its titles, and how epoch times are shown.

Imported by the admin's autodiscovery (``config`` is an installed app).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format

admin.site.site_header = "Model library"
admin.site.site_title = "Model library admin"
admin.site.index_title = "Catalog, staging and tags"
# The index already lists every model; on a list page the width is worth more
# (the pending list has ten columns beside its filters).
admin.site.enable_nav_sidebar = False


def epoch_ms_display(value: int | None) -> str:
    """Epoch milliseconds (how the API keeps times) as a date in the site's time zone.

    0 or no value means the time is unknown (e.g. a legacy record without one).
    """
    if not value:
        return "-"
    try:
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return f"{value} ms (out of range)"
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT")
