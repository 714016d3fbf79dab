"""Hashes: sha256 and the tensor hash from one read, AutoV1/V2/V3, the cache."""

from __future__ import annotations

import hashlib
import os

import pytest

from catalog.fileinfo import hashes
from catalog.fileinfo.record import tensor_data_offset
from catalog.models import FileHash
from catalog.services import file_digest_cached
from catalog.tests import model_files as mf

MiB = 1024 * 1024


@pytest.mark.parametrize("size", [0, 100, 5 * MiB, 21 * MiB + 17])
@pytest.mark.parametrize("offset", [0, 8, 4 * MiB + 3, None])
def test_both_digests_match_hashlib(tmp_path, size, offset):
    data = os.urandom(size)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    offset = size if offset is None else min(offset, size)
    digests = hashes.file_digests(str(path), tensor_offset=offset)
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.tensor_sha256 == hashlib.sha256(data[offset:]).hexdigest()


def test_without_a_tensor_offset_only_the_sha256(tmp_path):
    path = tmp_path / "f.ckpt"
    path.write_bytes(b"pickled")
    assert hashes.file_digests(str(path), tensor_offset=None) == (
        hashlib.sha256(b"pickled").hexdigest(),
        "",
    )


def test_a_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        hashes.file_digests(str(tmp_path / "absent"), tensor_offset=8)


@pytest.mark.parametrize("size", [10, MiB, MiB + 100, 3 * MiB])
def test_autov1_is_the_old_model_hash(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "m.safetensors"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        assert hashes.autov1_of(handle) == hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]


def test_short_forms():
    sha, tensor = "A" * 0 + "0123456789abcdef" * 4, "fedcba9876543210" * 4
    assert hashes.short_hashes(sha256=sha, tensor_sha256=tensor, autov1="12345678") == {
        "sha256": sha,
        "autov1": "12345678",
        "autov2": sha[:10],
        "autov3": tensor[:12],
        "tensor_sha256": tensor,
    }
    assert hashes.short_hashes(autov1="12345678") == {"autov1": "12345678"}


@pytest.mark.django_db
def test_the_cache_keeps_the_tensor_hash_and_answers_without_reading(tmp_path, monkeypatch):
    path = mf.write_safetensors(
        tmp_path / "e.safetensors",
        {"emb_params": ("F32", (64, 768))},
        data=os.urandom(64 * 768 * 4),
    )
    data = path.read_bytes()
    offset = tensor_data_offset(str(path))
    assert offset == 8 + int.from_bytes(data[:8], "little")
    first = file_digest_cached(path=str(path))
    assert first.tensor_sha256 == hashlib.sha256(data[offset:]).hexdigest()
    assert FileHash.objects.get(path=str(path)).tensor_sha256 == first.tensor_sha256

    def no_read(*args, **kwargs):
        raise AssertionError("read again")

    monkeypatch.setattr("catalog.services.file_digests", no_read)
    again = file_digest_cached(path=str(path))
    assert (again.from_cache, again.tensor_sha256) == (True, first.tensor_sha256)


@pytest.mark.django_db
def test_other_formats_have_no_tensor_hash(tmp_path):
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 100)
    assert file_digest_cached(path=str(path)).tensor_sha256 == ""
