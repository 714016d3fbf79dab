"""safetensors headers: an 8-byte little-endian length, then that many bytes of JSON.

The JSON object maps each tensor name to ``{"dtype", "shape", "data_offsets"}``
and may hold ``__metadata__`` (string keys and values). Only the header is
read; the tensor data that follows it never is (except while hashing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import BinaryIO

from catalog.fileinfo.readers import JSON_ERRORS, HeaderError, json_loads

# The safetensors format refuses headers over 100 MB; so do we, before reading them.
MAX_HEADER_BYTES = 100 * 1000 * 1000
# What a scan reads first: most LoRA and embedding headers fit.
FIRST_READ = 64 * 1024


@dataclass(frozen=True)
class SafetensorsHeader:
    # Bytes of the JSON header; the tensor data starts at 8 + length.
    length: int
    # name -> {"dtype": str, "shape": [int, ...], ...} as the JSON holds it.
    tensors: dict[str, dict]
    # ``__metadata__``: string values only (the format allows nothing else).
    metadata: dict[str, str]
    # element count per dtype, and their sum
    dtype_elements: dict[str, int]
    parameters: int

    @property
    def data_offset(self) -> int:
        return 8 + self.length


def header_length(head: bytes, size: int) -> int:
    """The JSON header's length from the first 8 bytes, checked against the file's size."""
    if size < 8 or len(head) < 8:
        raise HeaderError(f"The file is too short ({size} bytes) to hold a safetensors header.")
    length = int.from_bytes(head[:8], "little")
    if length == 0:
        raise HeaderError("The safetensors header length is zero.")
    if length > MAX_HEADER_BYTES:
        raise HeaderError(
            f"The safetensors header length ({length:,} bytes) is over the 100 MB limit."
        )
    if 8 + length > size:
        raise HeaderError(
            f"The safetensors header length ({length:,} bytes) runs past the end of the "
            f"file ({size:,} bytes): the file is truncated or not safetensors."
        )
    return length


def read_header(handle: BinaryIO, size: int, head: bytes = b"") -> SafetensorsHeader:
    """Read and parse the header of an open file of ``size`` bytes.

    ``head`` holds bytes already read from offset 0 (a scan's first read);
    only what the header needs beyond them is read. Raises HeaderError.
    """
    if len(head) < 8:
        handle.seek(0)
        head = handle.read(FIRST_READ)
    length = header_length(head, size)
    raw = head[8 : 8 + length]
    if len(raw) < length:
        handle.seek(8 + len(raw))
        rest = handle.read(length - len(raw))
        if len(rest) < length - len(raw):
            raise HeaderError("The file ended inside its safetensors header.")
        raw += rest
    return parse_header(raw, length=length)


def parse_header(raw: bytes, *, length: int | None = None) -> SafetensorsHeader:
    """Parse the JSON header bytes (without the 8-byte length). Raises HeaderError."""
    try:
        document = json_loads(raw)
    except JSON_ERRORS as exc:
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            raise HeaderError("The safetensors header is not UTF-8 text.") from None
        raise HeaderError(f"The safetensors header is not valid JSON ({_short(exc)}).") from None
    if not isinstance(document, dict):
        raise HeaderError(
            f"The safetensors header is JSON but not an object (it is a {_json_type(document)})."
        )
    metadata = document.pop("__metadata__", None)
    metadata = (
        {k: v for k, v in metadata.items() if isinstance(v, str)}
        if isinstance(metadata, dict)
        else {}
    )
    dtype_elements: dict[str, int] = {}
    prod = math.prod
    # The one loop over every tensor: checks each entry and counts its elements.
    for name, entry in document.items():
        try:
            dtype = entry["dtype"]
            elements = prod(entry["shape"])
        except (TypeError, KeyError):
            raise HeaderError(
                f"Tensor {name[:200]!r} in the safetensors header has no dtype and shape."
            ) from None
        if not isinstance(dtype, str) or not isinstance(elements, int) or elements < 0:
            raise HeaderError(
                f"Tensor {name[:200]!r} in the safetensors header has an invalid dtype or shape."
            )
        dtype_elements[dtype] = dtype_elements.get(dtype, 0) + elements
    return SafetensorsHeader(
        length=len(raw) if length is None else length,
        tensors=document,
        metadata=metadata,
        dtype_elements=dtype_elements,
        parameters=sum(dtype_elements.values()),
    )


def _json_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )


def _short(exc: Exception) -> str:
    return str(exc).split(":", 1)[0][:200]
