"""A real S3-compatible server for the tests: moto in server mode, over HTTP.

Not an in-process mock: boto3 talks HTTP to a separate ``moto_server`` process
exactly as it talks to AWS, MinIO or Ceph. The server is started once per test
session on a free loopback port (or taken from ``TEST_S3_ENDPOINT_URL`` when
``.ci/run`` started one), and every test that uses ``s3_media`` gets a bucket
of its own, emptied and removed afterwards.

With ``TEST_MEDIA_STORAGE=s3`` the root conftest gives *every* test its media
in such a bucket: ``TEST_MEDIA_STORAGE=s3 bin/test imaging migration_app`` runs
the imaging and staging suites against object storage (a ``.ci/run`` stage).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENDPOINT_VARIABLE = "TEST_S3_ENDPOINT_URL"
MOTO_SERVER = str(Path(sys.executable).with_name("moto_server"))
# Any key works with moto; explicit ones keep a machine's real AWS
# credentials (environment, ~/.aws) out of the tests.
CREDENTIALS = {"access_key": "testing", "secret_key": "testing"}
REGION = "us-east-1"


def media_storage_s3(endpoint_url: str, bucket: str) -> dict:
    """The STORAGES["default"] entry of MEDIA_STORAGE=s3 (as config/settings.py
    builds it) for ``bucket`` on the test server."""
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": endpoint_url,
            "region_name": REGION,
            "default_acl": None,
            "file_overwrite": True,
            **CREDENTIALS,
        },
    }


def s3_client(endpoint_url: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
    )


def bucket_keys(endpoint_url: str, bucket: str) -> set[str]:
    """Every object key in ``bucket``."""
    pages = s3_client(endpoint_url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {entry["Key"] for page in pages for entry in page.get("Contents", ())}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer on {url} in {timeout:.0f} s")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a running S3-compatible server on loopback, for the whole session."""
    given = os.environ.get(ENDPOINT_VARIABLE, "").strip()
    if given:
        _wait_until_up(given.rstrip("/"), None)
        yield given
        return
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def s3_bucket(s3_endpoint) -> Iterator[str]:
    """A new empty bucket, emptied and removed after the test."""
    client = s3_client(s3_endpoint)
    bucket = f"test-{uuid.uuid4().hex}"
    client.create_bucket(Bucket=bucket)
    yield bucket
    keys = bucket_keys(s3_endpoint, bucket)
    for start in range(0, len(keys), 1000):
        batch = sorted(keys)[start : start + 1000]
        client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch]})
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_media(settings, s3_endpoint, s3_bucket, tmp_path) -> Iterator[str]:
    """Media storage in a bucket of its own for this test; yields the bucket name.

    Also checks the promise of MEDIA_STORAGE=s3: no image file is written to
    the local media folder.
    """
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage_s3(s3_endpoint, s3_bucket),
    }
    local = Path(settings.MEDIA_ROOT)
    yield s3_bucket
    written = [str(path) for path in local.rglob("*") if path.is_file()] if local.exists() else []
    assert written == [], f"files written to the local media folder with S3 media: {written}"
