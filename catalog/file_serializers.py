"""The ``file`` object of full records (docs/file-intelligence.md), for the API and its schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from catalog.fileinfo.record import empty_record, format_of, with_hashes
from catalog.sidecar_serializers import FileSidecarsSerializer


class FileHashesSerializer(serializers.Serializer):
    sha256 = serializers.CharField(required=False, help_text="The file's SHA-256, once hashed.")
    autov1 = serializers.CharField(
        required=False, help_text="First 8 hex of the SHA-256 of the 64 KiB at offset 1 MiB."
    )
    autov2 = serializers.CharField(required=False, help_text="First 10 hex of sha256.")
    autov3 = serializers.CharField(required=False, help_text="First 12 hex of tensor_sha256.")
    tensor_sha256 = serializers.CharField(
        required=False, help_text="SHA-256 of a safetensors file's bytes after its header."
    )


class FileTrainingSerializer(serializers.Serializer):
    """kohya's ss_* keys (numbers as numbers); absent keys are left out."""

    network_module = serializers.CharField(required=False)
    network_dim = serializers.IntegerField(required=False)
    network_alpha = serializers.FloatField(required=False)
    epochs = serializers.IntegerField(required=False)
    steps = serializers.IntegerField(required=False)
    resolution = serializers.CharField(required=False)
    output_name = serializers.CharField(required=False)
    base_model_version = serializers.CharField(required=False)
    sd_model_name = serializers.CharField(required=False)
    top_tags = serializers.ListField(
        child=serializers.ListField(), required=False, help_text="[[tag, count], ...], top 20."
    )


class FileRecordSerializer(serializers.Serializer):
    """What the file's header says about it."""

    format = serializers.CharField(help_text="safetensors, gguf, ckpt, onnx or unknown.")
    architecture = serializers.CharField(help_text="sd1, sd2, sdxl, sdxl_refiner, sd3, flux1, ...")
    kind = serializers.CharField(
        help_text="checkpoint, diffusion_model, lora, lycoris, vae, text_encoder, embedding, "
        "controlnet, upscaler, clip_vision or unknown."
    )
    base_model = serializers.CharField(help_text="SD 1.5, SDXL 1.0, Pony, Flux.1 D, ... or ''.")
    dtype = serializers.CharField(help_text="The dtype holding most parameters, e.g. F16, Q4_K.")
    tensor_count = serializers.IntegerField()
    parameters = serializers.IntegerField()
    hashes = FileHashesSerializer()
    trigger_words = serializers.ListField(child=serializers.CharField())
    training = FileTrainingSerializer()
    modelspec = serializers.DictField(child=serializers.CharField())
    header_error = serializers.CharField(help_text="Why the header could not be read, or ''.")
    sidecars = FileSidecarsSerializer(
        required=False, help_text="What other tools wrote beside the file (docs/sidecars.md)."
    )


def file_record_shown(info: Mapping[str, Any] | None, *, path: str, sha256: str = "") -> dict:
    """The stored record, or (for a file not read yet) an empty one; its hashes
    completed with ``sha256`` when the row knows it (a pending model hashed
    after its scan)."""
    record = (
        dict(info)
        if info and "format" in info
        else empty_record(format_of(path)) | dict(info or {})
    )
    if sha256 and (record.get("hashes") or {}).get("sha256") != sha256:
        record = with_hashes(record, sha256=sha256)
    return record
