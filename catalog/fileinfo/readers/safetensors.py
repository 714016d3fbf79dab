"""safetensors headers: an 8-byte little-endian length, then that many bytes of JSON.

The JSON object maps each tensor name to ``{"dtype", "shape", "data_offsets"}``
and may hold ``__metadata__`` (string keys and values). Only the header is
read; the tensor data that follows it never is (except while hashing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
from typing import BinaryIO

from catalog.fileinfo.readers import JSON_ERRORS, HeaderError, json_loads
from config.collector import collector_paused

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
    # Thousands of dicts and lists, no cycles: the collector waits (config/collector.py).
    with collector_paused():
        return _parsed(raw, length)


def _parsed(raw: bytes, length: int | None) -> SafetensorsHeader:
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
    try:
        dtype_elements = _elements_by_dtype(list(document.values()))
    except (TypeError, KeyError):
        raise HeaderError(_bad_tensor(document, "has no dtype and shape")) from None
    for dtype, elements in dtype_elements.items():
        if not isinstance(dtype, str) or not isinstance(elements, int) or elements < 0:
            raise HeaderError(_bad_tensor(document, "has an invalid dtype or shape"))
    return SafetensorsHeader(
        length=len(raw) if length is None else length,
        tensors=document,
        metadata=metadata,
        dtype_elements=dtype_elements,
        parameters=sum(dtype_elements.values()),
    )


def _elements_by_dtype(entries: list) -> dict[str, int]:
    """Element count per dtype, in the order the dtypes first appear.

    A checkpoint has 2,500 tensors: the dtypes and element counts are taken
    with map() (C loops, no Python step per tensor) and summed once per dtype
    (most files have one or two). Nothing is type-checked per tensor: a wrong
    type fails here (a missing key, an unhashable dtype, a shape prod()
    refuses) or shows in the totals, which the caller checks.
    """
    dtypes = list(map(_DTYPE, entries))
    elements = list(map(math.prod, map(_SHAPE, entries)))
    kinds = list(dict.fromkeys(dtypes))
    if len(kinds) == 1:
        return {kinds[0]: sum(elements)}
    return {kind: sum(compress(elements, map(kind.__eq__, dtypes))) for kind in kinds}


_DTYPE = itemgetter("dtype")
_SHAPE = itemgetter("shape")


def _bad_tensor(document: dict, problem: str) -> str:
    """The sentence for the first tensor entry that is not {"dtype": str, "shape": [int]}."""
    for name, entry in document.items():
        try:
            dtype, shape = entry["dtype"], entry["shape"]
            valid = (
                isinstance(dtype, str)
                and isinstance(shape, list)
                and all(isinstance(dim, int) and dim >= 0 for dim in shape)
            )
        except (TypeError, KeyError):
            valid = False
        if not valid:
            return f"Tensor {str(name)[:200]!r} in the safetensors header {problem}."
    return f"A tensor in the safetensors header {problem}."


def _json_type(value: object) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), "null"
    )


def _short(exc: Exception) -> str:
    return str(exc).split(":", 1)[0][:200]
