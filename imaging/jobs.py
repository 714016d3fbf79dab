"""Job kind of sample images: rebuild_renditions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from config.progress import Progress
from imaging.services import renditions_rebuild
from jobs.kinds import JobKind, register_kind


class RebuildParams(serializers.Serializer):
    all = serializers.BooleanField(
        default=False, help_text="Every image's renditions, not only missing ones."
    )


def rebuild_renditions_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    summary = renditions_rebuild(rebuild_all=params["all"], progress=progress)
    return {"checked": summary.checked, "rebuilt": summary.rebuilt, "failed": summary.failed}


register_kind(
    JobKind(
        name="rebuild_renditions",
        params=RebuildParams,
        run=rebuild_renditions_job,
        unit="items",
        dedupe=True,
        description="Render missing (or, with all, every) WebP renditions.",
    )
)
