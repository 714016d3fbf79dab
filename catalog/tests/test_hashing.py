"""catalog.hashing gives hashlib's digest for every size, on both of its read paths."""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from catalog import hashing


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        hashing.CHUNK_SIZE - 1,
        hashing.CHUNK_SIZE + 1,
        hashing.THREADED_MIN_SIZE,
        hashing.THREADED_MIN_SIZE * 2 + 12345,
    ],
)
def test_sha256_of_file_matches_hashlib(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)

    assert hashing.sha256_of_file(str(path)) == hashlib.sha256(data).hexdigest()


def test_sha256_of_file_with_small_chunks_matches_hashlib(tmp_path):
    data = os.urandom(hashing.THREADED_MIN_SIZE + 1000)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)

    assert hashing.sha256_of_file(str(path), chunk_size=4096) == hashlib.sha256(data).hexdigest()


def test_sha256_of_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        hashing.sha256_of_file(str(tmp_path / "absent.safetensors"))


class FailingFile:
    """A file whose second read fails, as a disk or network share can."""

    def __init__(self):
        self.reads = 0

    def readinto(self, buffer):
        self.reads += 1
        if self.reads > 1:
            raise OSError("disk went away")
        buffer[:3] = b"abc"
        return 3


@pytest.mark.parametrize("consumers", [1, 2])
def test_read_error_in_reader_thread_reaches_the_caller(consumers):
    updates = [hashlib.sha256().update for _ in range(consumers)]
    with pytest.raises(OSError, match="disk went away"):
        hashing.read_blocks(FailingFile(), updates, threaded=True, chunk_size=4096)


def test_error_in_a_consumer_thread_on_the_last_block_reaches_the_caller():
    def fail(block):
        raise ValueError("digest went away")

    reads = iter([b"abc", b""])

    class OneBlockFile:
        def readinto(self, buffer):
            data = next(reads)
            buffer[: len(data)] = data
            return len(data)

    with pytest.raises(ValueError, match="digest went away"):
        hashing.read_blocks(OneBlockFile(), [hashlib.sha256().update, fail], threaded=True)


def test_files_hashed_at_the_same_time_each_get_their_own_digest(tmp_path):
    contents = [os.urandom(hashing.THREADED_MIN_SIZE + n) for n in range(4)]
    paths = []
    for number, data in enumerate(contents):
        path = tmp_path / f"model_{number}.safetensors"
        path.write_bytes(data)
        paths.append(str(path))

    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = list(pool.map(hashing.sha256_of_file, paths))

    assert digests == [hashlib.sha256(data).hexdigest() for data in contents]


@pytest.mark.django_db
def test_cached_hash_is_reused_until_the_file_changes_then_replaced(tmp_path):
    from catalog.models import FileHash
    from catalog.services import file_sha256_cached

    path = tmp_path / "model.safetensors"
    path.write_bytes(b"first")
    first = file_sha256_cached(path=str(path))
    FileHash.objects.filter(path=str(path)).update(sha256="0" * 64)  # what a reread would undo

    assert file_sha256_cached(path=str(path)) == "0" * 64

    path.write_bytes(b"second, longer")
    assert file_sha256_cached(path=str(path)) == hashlib.sha256(b"second, longer").hexdigest()
    assert FileHash.objects.filter(path=str(path)).count() == 1
    assert first == hashlib.sha256(b"first").hexdigest()


@pytest.mark.parametrize("consumers", [1, 2, 3])
def test_every_consumer_sees_every_block_in_order_over_a_small_ring(tmp_path, consumers):
    # 4 KiB blocks: hundreds of turns of the ring, whichever consumer reads.
    data = os.urandom(700_001)
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)
    digests = [hashlib.sha256() for _ in range(consumers)]

    with open(path, "rb", buffering=0) as handle:
        hashing.read_blocks(
            handle, [digest.update for digest in digests], threaded=True, chunk_size=4096
        )

    assert [digest.hexdigest() for digest in digests] == [
        hashlib.sha256(data).hexdigest()
    ] * consumers
