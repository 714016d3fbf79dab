"""GGUF headers, read from the documented layout without loading tensor data.

Layout (little-endian; ggml's docs/gguf.md, versions 2 and 3): the magic
``GGUF``, a u32 version, a u64 tensor count, a u64 key/value count; then the
key/value pairs (a string key, a u32 value type, the value); then per tensor
its name, a u32 dimension count, u64 dimensions (innermost first), a u32 ggml
type and a u64 data offset. Strings are a u64 length and UTF-8 bytes.

The ``gguf`` package (llama.cpp's reader) memory-maps the whole file; reading
the header through a plain buffered file keeps a truncated or sparse file from
ever being mapped, and bounds every length before it is trusted.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from catalog.fileinfo.readers import HeaderError
from catalog.fileinfo.readers.safetensors import MAX_HEADER_BYTES

MAGIC = b"GGUF"
# Value types of the key/value section: struct format per scalar type.
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
# Metadata values kept: scalars and short strings. Arrays (tokenizer vocabularies
# of 150,000 strings) are skipped over, never kept.
MAX_KEPT_STRING = 4096
MAX_DIMS = 8


@dataclass(frozen=True)
class GgufHeader:
    version: int
    metadata: dict[str, Any]
    # name -> (shape outermost first, like PyTorch; ggml type name)
    tensors: dict[str, tuple[tuple[int, ...], str]]
    dtype_elements: dict[str, int]
    parameters: int


class _Reader:
    """Reads from a file, refusing to go past the header size limit or the file's end."""

    def __init__(self, handle: BinaryIO, size: int):
        self.handle = handle
        self.limit = min(size, MAX_HEADER_BYTES)
        self.position = 0

    def take(self, count: int) -> bytes:
        if count < 0 or self.position + count > self.limit:
            if self.position + count > MAX_HEADER_BYTES:
                raise HeaderError("The GGUF header is over the 100 MB limit.")
            raise HeaderError("The GGUF header runs past the end of the file (truncated?).")
        data = self.handle.read(count)
        if len(data) < count:
            raise HeaderError("The GGUF header runs past the end of the file (truncated?).")
        self.position += count
        return data

    def skip(self, count: int) -> None:
        if count < 0 or self.position + count > self.limit:
            raise HeaderError("The GGUF header runs past the end of the file (truncated?).")
        self.handle.seek(count, 1)
        self.position += count

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self, keep: bool = True) -> str | None:
        length = self.unpack("<Q")
        if not keep or length > MAX_KEPT_STRING:
            self.skip(length)
            return None
        return self.take(length).decode("utf-8", errors="replace")


def read_header(handle: BinaryIO, size: int) -> GgufHeader:
    """Parse the GGUF header of an open file of ``size`` bytes. Raises HeaderError."""
    handle.seek(0)
    reader = _Reader(handle, size)
    if size < 24 or reader.take(4) != MAGIC:
        raise HeaderError("The file does not start with the GGUF magic bytes.")
    version = reader.unpack("<I")
    if version not in (2, 3):
        raise HeaderError(f"GGUF version {version} is not supported (only 2 and 3).")
    tensor_count = reader.unpack("<Q")
    kv_count = reader.unpack("<Q")
    # Each entry takes at least a few bytes: counts beyond the file are lies.
    if tensor_count > size // 24 or kv_count > size // 12:
        raise HeaderError("The GGUF header's counts are larger than the file can hold.")
    metadata: dict[str, Any] = {}
    for _ in range(kv_count):
        key = reader.string() or ""
        value = _value(reader, reader.unpack("<I"))
        if value is not None:
            metadata[key] = value
    names = _type_names()
    tensors: dict[str, tuple[tuple[int, ...], str]] = {}
    dtype_elements: dict[str, int] = {}
    for _ in range(tensor_count):
        name = reader.string(keep=True) or ""
        dims = reader.unpack("<I")
        if dims > MAX_DIMS:
            raise HeaderError(f"GGUF tensor {name[:200]!r} has {dims} dimensions.")
        shape = struct.unpack(f"<{dims}Q", reader.take(8 * dims))[::-1]
        ggml_type = reader.unpack("<I")
        reader.skip(8)  # data offset
        dtype = names.get(ggml_type, f"type{ggml_type}")
        elements = 1
        for dim in shape:
            elements *= dim
        tensors[name] = (shape, dtype)
        dtype_elements[dtype] = dtype_elements.get(dtype, 0) + elements
    return GgufHeader(
        version=version,
        metadata=metadata,
        tensors=tensors,
        dtype_elements=dtype_elements,
        parameters=sum(dtype_elements.values()),
    )


def _value(reader: _Reader, value_type: int) -> Any:
    if value_type in _SCALARS:
        return reader.unpack(_SCALARS[value_type])
    if value_type == _STRING:
        return reader.string()
    if value_type == _ARRAY:
        item_type = reader.unpack("<I")
        count = reader.unpack("<Q")
        if item_type in _SCALARS:
            reader.skip(count * struct.calcsize(_SCALARS[item_type]))
        elif item_type == _STRING:
            for _ in range(count):
                reader.string(keep=False)
        else:
            # Arrays of arrays exist in the format but not in any model file we know.
            for _ in range(count):
                _value(reader, item_type)
        return None
    raise HeaderError(f"The GGUF header holds an unknown value type {value_type}.")


def _type_names() -> dict[int, str]:
    """ggml tensor type ids -> names (``Q4_K``, ``F16``, ...), from the gguf package."""
    from gguf.constants import GGMLQuantizationType

    return {member.value: member.name for member in GGMLQuantizationType}
