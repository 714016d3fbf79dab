"""ONNX models: recognised by their first protobuf field, nothing more is read.

An ONNX file is a serialised ``ModelProto`` whose writers put ``ir_version``
(field 1, a varint: tag byte 0x08) first.
"""

from __future__ import annotations

from catalog.fileinfo.readers import HeaderError

IR_VERSION_TAG = 0x08


def check(head: bytes) -> None:
    """HeaderError unless ``head`` starts like an ONNX ModelProto."""
    if not head:
        raise HeaderError("The file is empty.")
    if head[0] != IR_VERSION_TAG:
        raise HeaderError("The file does not start like an ONNX model (ir_version first).")
