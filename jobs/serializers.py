"""Job records in and out of the API (SPEC: the Job record)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobs.models import Job, JobState


def epoch_ms(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True, help_text="null while unknown.")
    unit = serializers.ChoiceField(choices=["files", "bytes", "rows", "items"])


class JobSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    result = serializers.JSONField(allow_null=True, help_text="The synchronous route's body.")
    params = serializers.JSONField()
    created_at = serializers.SerializerMethodField(help_text="Epoch milliseconds.")
    started_at = serializers.SerializerMethodField(help_text="Epoch milliseconds or null.")
    finished_at = serializers.SerializerMethodField(help_text="Epoch milliseconds or null.")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "state",
            "params",
            "progress",
            "message",
            "result",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "cancel_requested",
            "attempts",
            "worker",
        ]

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, job: Job) -> dict[str, Any]:
        return {"done": job.progress_done, "total": job.progress_total, "unit": job.unit}

    @extend_schema_field(OpenApiTypes.INT)
    def get_created_at(self, job: Job) -> int:
        return epoch_ms(job.created_at)

    @extend_schema_field(OpenApiTypes.INT)
    def get_started_at(self, job: Job) -> int | None:
        return epoch_ms(job.started_at)

    @extend_schema_field(OpenApiTypes.INT)
    def get_finished_at(self, job: Job) -> int | None:
        return epoch_ms(job.finished_at)


class JobSubmitSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="scan, hash, legacy_import, ...")
    params = serializers.JSONField(required=False, help_text="The synchronous route's body.")


class JobListSerializer(serializers.Serializer):
    jobs = JobSerializer(many=True)
    total = serializers.IntegerField()


class JobListQuerySerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=JobState.choices, required=False)
    kind = serializers.CharField(max_length=64, required=False)
    limit = serializers.IntegerField(min_value=0, max_value=1000, required=False, default=50)
    offset = serializers.IntegerField(min_value=0, required=False, default=0)
