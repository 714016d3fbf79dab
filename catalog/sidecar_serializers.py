"""``file.sidecars`` in the API schema (docs/sidecars.md)."""

from __future__ import annotations

from rest_framework import serializers


class SidecarCivitaiSerializer(serializers.Serializer):
    model_id = serializers.IntegerField(required=False)
    version_id = serializers.IntegerField(required=False)
    url = serializers.CharField(required=False, help_text="The Civitai page, built from the ids.")


class FileSidecarsSerializer(serializers.Serializer):
    """What other tools wrote beside the file, merged by precedence; absent facts left out."""

    sources = serializers.ListField(
        child=serializers.CharField(),
        help_text="Sidecars that gave something, in precedence order: json, metadata.json, "
        "cm-info.json, swarm.json, civitai.info, md, txt, description.txt.",
    )
    name = serializers.CharField(required=False)
    description = serializers.CharField(required=False)
    trigger_words = serializers.ListField(child=serializers.CharField(), required=False)
    base_model = serializers.CharField(required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    nsfw = serializers.BooleanField(required=False)
    favorite = serializers.BooleanField(required=False)
    preferred_weight = serializers.FloatField(required=False)
    notes = serializers.CharField(required=False)
    civitai = SidecarCivitaiSerializer(required=False)
    previews = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Preview image paths, in order."
    )
    warnings = serializers.ListField(
        child=serializers.CharField(), help_text="Per file: what could not be read or was ignored."
    )
    applied = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Catalog fields once filled from sidecars (never filled again).",
    )
