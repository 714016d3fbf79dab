"""Job kinds of the staging area: scan, hash, legacy_import, promote, import_sidecars.

Each runs the same service as the synchronous route and the command, with the
job's progress listener.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from config.progress import Progress
from jobs.kinds import JobKind, register_kind
from migration_app.serializers import (
    LegacyImportRequestSerializer,
    PromoteRequestSerializer,
    ScanRequestSerializer,
)
from migration_app.services.folder_scan import folder_scan, scan_roots
from migration_app.services.legacy_import import legacy_db_check, legacy_db_import
from migration_app.services.pending_hashing import pending_files_hash
from migration_app.services.promotion import pending_models_promote, promotion_body
from migration_app.services.sidecar_import import catalog_sidecars_import


class ScanJobParams(ScanRequestSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Unknown type or no roots at all: a 400/503 now, not a failed job later.
        scan_roots(model_type=attrs.get("type") or None)
        return {"type": attrs.get("type") or None}


class HashJobParams(serializers.Serializer):
    workers = serializers.IntegerField(
        min_value=1, max_value=32, default=2, help_text="Files hashed at the same time."
    )


class LegacyImportJobParams(LegacyImportRequestSerializer):
    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        legacy_db_check(
            db_path=attrs["legacy_db_path"],
            images_dir=attrs.get("legacy_images_dir"),
            allowed_roots=settings.LEGACY_IMPORT_ROOTS,
        )
        return attrs


def scan_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    return folder_scan(model_type=params.get("type"), progress=progress).as_dict()


def hash_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    # Resumes cheaply: what an earlier attempt hashed has its sha256 recorded
    # and is skipped; a half-read file is read again (the cache keys on stat).
    result = pending_files_hash(workers=params["workers"], unhashed_only=True, progress=progress)
    return result.as_dict()


def legacy_import_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    report = legacy_db_import(
        db_path=params["legacy_db_path"],
        images_dir=params.get("legacy_images_dir"),
        allowed_roots=settings.LEGACY_IMPORT_ROOTS,
        progress=progress,
    )
    return report.as_dict()


def promote_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    outcomes = pending_models_promote(
        ids=params["id"], strategy=params["conflict_strategy"], progress=progress
    )
    return promotion_body(outcomes)


register_kind(
    JobKind(
        name="scan",
        params=ScanJobParams,
        run=scan_job,
        unit="files",
        dedupe=True,
        description="Stage the model files found under the configured roots.",
    )
)
register_kind(
    JobKind(
        name="hash",
        params=HashJobParams,
        run=hash_job,
        unit="bytes",
        dedupe=True,
        description="Hash every pending file not hashed yet, filling the hash cache.",
    )
)
register_kind(
    JobKind(
        name="legacy_import",
        params=LegacyImportJobParams,
        run=legacy_import_job,
        unit="rows",
        description="Import the previous tool's SQLite database.",
    )
)
register_kind(
    JobKind(
        name="promote",
        params=PromoteRequestSerializer,
        run=promote_job,
        unit="items",
        # A second run would report the ids it already promoted as unknown.
        resumable=False,
        description="Promote pending models into the catalog.",
    )
)


class ImportSidecarsJobParams(serializers.Serializer):
    """No parameters: every catalog model is checked."""


def import_sidecars_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    # Resumes cheaply: the fill-empty rule skips what an earlier attempt applied.
    return catalog_sidecars_import(progress=progress).as_dict()


register_kind(
    JobKind(
        name="import_sidecars",
        params=ImportSidecarsJobParams,
        run=import_sidecars_job,
        unit="items",
        dedupe=True,
        description="Fill empty catalog fields from the sidecar files beside every model.",
    )
)
