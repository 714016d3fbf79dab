"""The ``file`` record: what a model file says about itself, built in one place.

``file_record_of`` opens a file, reads its header (never its tensor data),
and returns a JSON-able dict, the ``file`` object of the API. Every reader
error becomes ``header_error``; nothing here raises for a file's content or
for a file that cannot be opened. Other parts of the catalog may add keys to
the record (e.g. ``sidecars``) but build it through ``empty_record``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from catalog.fileinfo import detect, hashes, modelspec
from catalog.fileinfo.readers import HeaderError, onnx, pickled
from catalog.fileinfo.readers import gguf as gguf_reader
from catalog.fileinfo.readers import safetensors as st_reader
from config.collector import collector_paused

FORMATS_BY_EXTENSION = {
    ".safetensors": "safetensors",
    ".sft": "safetensors",
    ".gguf": "gguf",
    ".ckpt": "ckpt",
    ".pt": "ckpt",
    ".pt2": "ckpt",
    ".pth": "ckpt",
    ".bin": "ckpt",
    ".pkl": "ckpt",
    ".onnx": "onnx",
}


def format_of(path: str) -> str:
    """The file format from the file name: safetensors, gguf, ckpt, onnx or unknown."""
    return FORMATS_BY_EXTENSION.get(os.path.splitext(path)[1].lower(), "unknown")


def empty_record(file_format: str) -> dict[str, Any]:
    """A ``file`` record with nothing known yet but its format."""
    return {
        "format": file_format,
        "architecture": detect.UNKNOWN,
        "kind": detect.UNKNOWN,
        "base_model": "",
        "dtype": "",
        "tensor_count": 0,
        "parameters": 0,
        "hashes": {},
        "trigger_words": [],
        "training": {},
        "modelspec": {},
        "header_error": "",
    }


def file_record_of(path: str) -> dict[str, Any]:
    """Read the header of the file at ``path`` and describe it (see module doc).

    Reads the first 64 KiB, the rest of a longer safetensors header, and the
    64 KiB at 1 MiB for ``autov1``. Pickled files are never unpickled.
    """
    record = empty_record(format_of(path))
    # A header parses into thousands of dicts and lists, which make no cycles:
    # without the pause the collector's passes over the whole process took
    # more time than the parsing (docs/PERFORMANCE.md).
    try:
        with collector_paused(), open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(st_reader.FIRST_READ)
            _read_header(record, handle, size, head, os.path.basename(path))
            record["hashes"] = {"autov1": hashes.autov1_of(handle)}
    except OSError as exc:
        record["header_error"] = f"The file could not be read ({exc.strerror or exc})."
    return record


def _read_header(
    record: dict[str, Any], handle: Any, size: int, head: bytes, file_name: str
) -> None:
    file_format = record["format"]
    try:
        if file_format == "safetensors":
            header = st_reader.read_header(handle, size, head)
            _describe(
                record,
                names=header.tensors,
                shape_of=lambda name: header.tensors[name].get("shape"),
                dtype_elements=header.dtype_elements,
                metadata=header.metadata,
                file_name=file_name,
            )
        elif file_format == "gguf":
            _describe_gguf(record, gguf_reader.read_header(handle, size), file_name)
        elif file_format == "ckpt":
            pickled.container(head)
        elif file_format == "onnx":
            onnx.check(head)
    except HeaderError as exc:
        record["header_error"] = str(exc)


def _describe(
    record: dict[str, Any],
    *,
    names: Mapping[str, Any],
    shape_of: detect.ShapeOf,
    dtype_elements: Mapping[str, int],
    metadata: Mapping[str, str],
    file_name: str,
    found: detect.Detection | None = None,
) -> None:
    if found is None:
        found = detect.detect_tensors(names, shape_of)
    found = detect.refine_with_metadata(found, metadata, file_name=file_name)
    record.update(
        architecture=found.architecture,
        kind=found.kind,
        base_model=found.base_model,
        dtype=_most_common(dtype_elements),
        tensor_count=len(names),
        parameters=sum(dtype_elements.values()),
        trigger_words=modelspec.trigger_words_of(metadata),
        training=modelspec.training_of(metadata),
        modelspec=modelspec.modelspec_of(metadata),
    )


def _describe_gguf(record: dict[str, Any], header: gguf_reader.GgufHeader, file_name: str) -> None:
    general = header.metadata.get("general.architecture")
    found = detect.detect_gguf(
        header.tensors,
        lambda name: header.tensors[name][0],
        general if isinstance(general, str) else "",
    )
    # GGUF keys are not safetensors metadata; only string values can name a model.
    metadata = {k: v for k, v in header.metadata.items() if isinstance(v, str)}
    _describe(
        record,
        names=header.tensors,
        shape_of=lambda name: header.tensors[name][0],
        dtype_elements=header.dtype_elements,
        metadata=metadata,
        file_name=file_name,
        found=found,
    )


def _most_common(dtype_elements: Mapping[str, int]) -> str:
    # By elements, not by tensor count: a quantised file has more small F32
    # norms and biases than Q4_K weights, but its weights are Q4_K.
    return max(dtype_elements, key=dtype_elements.__getitem__) if dtype_elements else ""


def embedded_thumbnail(path: str) -> str:
    """The ``modelspec.thumbnail`` data URI of a safetensors file, or "" (never raises)."""
    if format_of(path) != "safetensors":
        return ""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(8)
            raw = handle.read(st_reader.header_length(head, size))
            # Most files have none: a substring search spares parsing the JSON.
            if b'"modelspec.thumbnail"' not in raw:
                return ""
            header = st_reader.parse_header(raw)
    except (OSError, HeaderError):
        return ""
    return modelspec.thumbnail_of(header.metadata)


def tensor_data_offset(path: str) -> int | None:
    """Where a safetensors file's tensor data starts (8 + header length), or None
    for other formats and unreadable headers. Raises OSError."""
    if format_of(path) != "safetensors":
        return None
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        try:
            return 8 + st_reader.header_length(handle.read(8), size)
        except HeaderError:
            return None


def with_hashes(record: Mapping[str, Any], *, sha256: str, tensor_sha256: str = "") -> dict:
    """A copy of ``record`` whose ``hashes`` include the full-file digests."""
    updated = dict(record)
    known = dict(record.get("hashes") or {})
    if not tensor_sha256 and known.get("sha256") == sha256:
        # The same bytes: a tensor hash computed earlier still holds.
        tensor_sha256 = known.get("tensor_sha256", "")
    updated["hashes"] = hashes.short_hashes(
        sha256=sha256, tensor_sha256=tensor_sha256, autov1=known.get("autov1", "")
    )
    return updated


def record_json(record: Mapping[str, Any]) -> str:
    """The record as JSON text, as a JSON column stores it (orjson when installed:
    a scan writes 100,000 of them)."""
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is in requirements.txt
        import json

        return json.dumps(record)
    return orjson.dumps(record).decode()


def summary_columns(record: Mapping[str, Any]) -> dict[str, str]:
    """The record's values that catalog and pending rows keep in columns."""
    known = record.get("hashes") or {}
    return {
        "architecture": str(record.get("architecture") or "")[:32],
        "base_model": str(record.get("base_model") or "")[:64],
        "kind": str(record.get("kind") or "")[:32],
        "autov1": str(known.get("autov1") or "")[:8],
        "autov2": str(known.get("autov2") or "")[:10],
        "autov3": str(known.get("autov3") or "")[:12],
        "tensor_sha256": str(known.get("tensor_sha256") or "")[:64],
    }
