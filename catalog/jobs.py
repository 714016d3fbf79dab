"""Job kind of the catalog: refresh_file_info.

It runs the same service as ``manage.py refresh_file_info``, with the job's
progress listener (docs/file-intelligence.md).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from catalog.file_info import catalog_file_info_refresh
from config.progress import Progress
from jobs.kinds import JobKind, register_kind


class RefreshFileInfoParams(serializers.Serializer):
    """No parameters: every catalog model's header is read again."""


def refresh_file_info_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    # Resumable: reading a header twice is harmless, and each batch commits.
    return catalog_file_info_refresh(progress=progress).as_dict()


register_kind(
    JobKind(
        name="refresh_file_info",
        params=RefreshFileInfoParams,
        run=refresh_file_info_job,
        unit="files",
        dedupe=True,
        description="Read every catalog model's file header again (no hashing).",
    )
)
