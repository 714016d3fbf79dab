"""Real model files and the sidecar fixture folders, copied beside them (tests only)."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path

FIXTURES = Path(__file__).parent / "sidecar_fixtures"
TOOLS = sorted(path.name for path in FIXTURES.iterdir() if path.is_dir() and path.name != "hazards")


def write_safetensors(path: Path, *, seed: int = 1, metadata: dict | None = None) -> Path:
    """A small valid safetensors LoRA: a JSON header, then two F16 tensors."""
    data = bytes((seed * 31 + index) % 251 for index in range(64))
    header = {
        "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight": {
            "dtype": "F16",
            "shape": [4, 4],
            "data_offsets": [0, 32],
        },
        "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight": {
            "dtype": "F16",
            "shape": [4, 4],
            "data_offsets": [32, 64],
        },
    }
    if metadata:
        header["__metadata__"] = metadata
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return path


def file_hashes(path: Path) -> dict[str, str]:
    """The hashes the service computes for a file (docs/file-intelligence.md)."""
    content = path.read_bytes()
    (length,) = struct.unpack("<Q", content[:8])
    sha256 = hashlib.sha256(content).hexdigest()
    tensor = hashlib.sha256(content[8 + length :]).hexdigest()
    return {
        "sha256": sha256,
        "autov1": hashlib.sha256(content[0x100000:0x110000]).hexdigest()[:8],
        "autov2": sha256[:10],
        "tensor_sha256": tensor,
        "autov3": tensor[:12],
    }


def fixture_tokens(hashes: dict[str, str]) -> dict[str, str]:
    return {
        "@SHA256@": hashes["sha256"],
        "@SHA256_UPPER@": hashes["sha256"].upper(),
        "@AUTOV1_UPPER@": hashes["autov1"].upper(),
        "@AUTOV2_UPPER@": hashes["autov2"].upper(),
        "@TENSOR_SHA256@": hashes["tensor_sha256"],
        "@AUTOV3_UPPER@": hashes["autov3"].upper(),
    }


def fixture_copy(tool: str, folder: Path, hashes: dict[str, str] | None = None) -> list[Path]:
    """Copy a tool's fixture files into ``folder``, tokens replaced by ``hashes``' values."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted((FIXTURES / tool).iterdir()):
        target = folder / source.name
        content = source.read_bytes()
        if hashes is not None and b"@" in content:
            for token, value in fixture_tokens(hashes).items():
                content = content.replace(token.encode(), value.encode())
            target.write_bytes(content)
        else:
            shutil.copyfile(source, target)
        copied.append(target)
    return copied


def fixture_bytes(tool: str, name: str, hashes: dict[str, str] | None = None) -> bytes:
    """One fixture file's bytes, tokens replaced when ``hashes`` is given."""
    content = (FIXTURES / tool / name).read_bytes()
    for token, value in fixture_tokens(hashes).items() if hashes else ():
        content = content.replace(token.encode(), value.encode())
    return content


def fixtures_snapshot() -> dict[str, tuple[bytes, int]]:
    """Bytes and mtime of every sidecar fixture file: the tests must leave them as they were."""
    return {
        str(path.relative_to(FIXTURES)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(FIXTURES.rglob("*"))
        if path.is_file()
    }
