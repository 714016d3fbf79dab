"""Route of the sidecar backfill: POST /api/library/import_sidecars."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs.serializers import JobSerializer
from jobs.views import RESPOND_ASYNC_PARAMETER, submit_async, wants_async
from migration_app.services.sidecar_import import catalog_sidecars_import


class SidecarImportRequestSerializer(serializers.Serializer):
    """No parameters: every catalog model is checked."""


class SidecarImportResponseSerializer(serializers.Serializer):
    status = serializers.CharField()
    checked = serializers.IntegerField(help_text="Catalog models looked at.")
    applied = serializers.IntegerField(help_text="Models that gained a field or an image.")
    fields_filled = serializers.IntegerField(help_text="Fields filled, over all models.")
    images_added = serializers.IntegerField(help_text="Previews that became sample images.")
    skipped = serializers.DictField(
        child=serializers.IntegerField(),
        help_text=(
            "Models left as they were, by reason: no_sidecars, file_missing, "
            "describes_other_bytes, nothing_to_fill."
        ),
    )


class SidecarImportView(APIView):
    requires_staff = True

    @extend_schema(
        request=SidecarImportRequestSerializer,
        parameters=[RESPOND_ASYNC_PARAMETER],
        responses={200: SidecarImportResponseSerializer, 202: JobSerializer},
        summary="Fill empty catalog fields from the sidecars beside every model file",
        description=(
            "Reads the sidecars (A1111 .json, .civitai.info, .cm-info.json, .metadata.json, "
            ".swarm.json, .md, .txt) and previews beside every location of every catalog "
            "model, checks them against the model's hash, and fills only empty fields "
            "(docs/sidecars.md). A second run changes nothing. Sidecar files are never written."
        ),
    )
    def post(self, request: Request) -> Response:
        if wants_async(request):
            return submit_async(request, kind="import_sidecars", params={})
        return Response(catalog_sidecars_import().as_dict())
