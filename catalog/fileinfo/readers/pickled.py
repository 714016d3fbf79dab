"""Pickled PyTorch files (``.ckpt .pt .pth .bin .pkl``): recognised, never loaded.

Unpickling runs whatever code the file names, so these files are only
recognised by their first bytes: a zip archive (``torch.save`` since PyTorch
1.6) or a pickle stream (its PROTO opcode, older ``torch.save``). No byte
after the first few is interpreted, and ``pickle`` is never imported.
"""

from __future__ import annotations

from catalog.fileinfo.readers import HeaderError

ZIP_MAGIC = b"PK\x03\x04"
PICKLE_PROTO = 0x80


def container(head: bytes) -> str:
    """``zip`` or ``pickle`` from the first bytes; HeaderError for anything else."""
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if len(head) >= 2 and head[0] == PICKLE_PROTO and 2 <= head[1] <= 5:
        return "pickle"
    if not head:
        raise HeaderError("The file is empty.")
    raise HeaderError("The file is neither a PyTorch zip archive nor a pickle stream.")
