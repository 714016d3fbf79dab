"""Media in an S3-compatible bucket (MEDIA_STORAGE=s3), against a real S3 server.

The server is moto in server mode (imaging/tests/s3.py), reached over HTTP by
boto3 as any S3 server would be. The whole imaging and staging suites also run
against it in a CI stage (TEST_MEDIA_STORAGE=s3); these tests check what only
object storage has: the objects in the bucket, the configuration, atomic
replacement, nothing written to the local media folder.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.core.management import call_command

from imaging.files import is_s3, write_file
from imaging.models import SampleImage
from imaging.orphans import media_orphans_remove
from imaging.renditions import RENDITION_VERSION
from imaging.tests.pictures import picture
from imaging.tests.s3 import CREDENTIALS, bucket_keys, media_storage_s3, s3_client

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def upload(api, sha256: str, content: bytes, name: str = "p.png"):
    body = {"sha256": sha256, "image": File(io.BytesIO(content), name=name)}
    return api.post("/api/images/upload", body, format="multipart")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def served_headers(response) -> dict[str, str]:
    return {
        key: response[key]
        for key in ("Content-Type", "Content-Length", "Cache-Control", "Content-Disposition")
    }


def test_images_are_objects_in_the_bucket_and_served_the_same_as_local_files(
    api, make_model, settings, s3_endpoint, s3_bucket, tmp_path
):
    model = make_model()
    content = picture((120, 80), color=(10, 200, 40))
    # The same picture with local media first, for the answer to compare with
    # (local even when TEST_MEDIA_STORAGE=s3 gives every test a bucket).
    local_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    settings.STORAGES = {**settings.STORAGES, "default": local_storage}
    settings.MEDIA_ROOT = tmp_path / "compare-local"
    assert upload(api, model.sha256, content).status_code == 201
    local = api.get(f"/api/images/{model.sha256}_0.webp?quality=medium")
    local_bytes = body(local)

    settings.STORAGES = {**settings.STORAGES, "default": media_storage_s3(s3_endpoint, s3_bucket)}
    assert is_s3(default_storage)
    assert upload(api, model.sha256, content).status_code == 201
    image = SampleImage.objects.get(model=model, seq=1)
    assert bucket_keys(s3_endpoint, s3_bucket) == {image.original.name, *image.rendition_names()}

    served = api.get(f"/api/images/{model.sha256}_1.webp?quality=medium")
    served_bytes = body(served)
    stored = (
        s3_client(s3_endpoint)
        .get_object(Bucket=s3_bucket, Key=image.rendition_name("medium"))["Body"]
        .read()
    )
    assert served.status_code == 200
    assert served_bytes == stored == local_bytes
    assert served_headers(served) == {
        **served_headers(local),
        "Content-Disposition": local["Content-Disposition"].replace(
            str(SampleImage.objects.get(model=model, seq=0).uid), str(image.uid)
        ),
    }
    assert served["ETag"] == f'"{image.uid.hex}-medium-v{RENDITION_VERSION}"'
    again = api.get(
        f"/api/images/{model.sha256}_1.webp?quality=medium", HTTP_IF_NONE_MATCH=served["ETag"]
    )
    assert again.status_code == 304


def test_nothing_is_written_to_the_local_media_folder(api, make_model, s3_media, settings):
    model = make_model()
    assert upload(api, model.sha256, picture()).status_code == 201
    assert api.delete(f"/api/images/delete?sha256={model.sha256}&seq=0").status_code == 200
    assert not Path(settings.MEDIA_ROOT).exists()  # s3_media checks every file too


def test_deleting_an_image_removes_its_objects(
    api, make_model, s3_media, s3_endpoint, django_capture_on_commit_callbacks
):
    model = make_model()
    upload(api, model.sha256, picture(color=(1, 2, 3)))
    upload(api, model.sha256, picture(color=(4, 5, 6)))
    kept = SampleImage.objects.get(model=model, seq=1)

    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/images/delete?sha256={model.sha256}&seq=0")

    assert bucket_keys(s3_endpoint, s3_media) == {kept.original.name, *kept.rendition_names()}


def test_a_missing_rendition_object_is_a_json_404_and_rebuild_restores_it(
    api, make_model, s3_media, s3_endpoint
):
    model = make_model()
    upload(api, model.sha256, picture())
    image = SampleImage.objects.get()
    s3_client(s3_endpoint).delete_object(Bucket=s3_media, Key=image.rendition_name("low"))

    missing = api.get(f"/api/images/{model.sha256}_0.webp?quality=low")
    assert (missing.status_code, missing.json()["code"]) == (404, "rendition_missing")

    out = io.StringIO()
    call_command("rebuild_renditions", stdout=out)
    assert "Checked 1 images: 1 rendered, 0 failed." in out.getvalue()
    assert api.get(f"/api/images/{model.sha256}_0.webp?quality=low").status_code == 200


def test_clean_media_removes_orphan_objects_and_keeps_referenced_ones(
    make_model, add_image, s3_media, s3_endpoint
):
    image = add_image(make_model())
    orphans = ["images/originals/left-behind.png", "images/renditions/left-behind_high.webp"]
    for name in orphans:
        default_storage.save(name, ContentFile(b"left behind"))

    report = media_orphans_remove(grace=timedelta(0))

    assert sorted(report.orphans) == orphans and report.removed == 2
    assert bucket_keys(s3_endpoint, s3_media) == {image.original.name, *image.rendition_names()}


def test_an_interrupted_put_leaves_the_previous_object_whole(s3_media, s3_endpoint):
    """What write_file relies on: a writer that dies mid-PUT (its connection
    drops) never leaves part of an object under the name."""
    name = "images/renditions/replaced_high.webp"
    write_file(default_storage, name, b"old bytes")
    host, port = s3_endpoint.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(
            f"PUT /{s3_media}/{name} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Content-Length: 100000\r\n\r\n".encode()
            + b"x" * 1000
        )
    # The server sees the connection end before the announced length.
    write_file(default_storage, "images/renditions/sync_high.webp", b"a later write")

    with default_storage.open(name, "rb") as stored:
        assert stored.read() == b"old bytes"


# --- configuration alone selects the bucket (a separate process, real settings) ----


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def s3_environment(data_dir: Path, endpoint: str, bucket: str) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    return {
        **environ,
        "DATA_DIR": str(data_dir),
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": CREDENTIALS["access_key"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret_key"],
    }


WRITE_AND_READ = """
from django.core.files.storage import default_storage
from imaging.files import stored_file_open, write_file
write_file(default_storage, "images/renditions/probe_high.webp", b"probe bytes")
stored = stored_file_open(default_storage, "images/renditions/probe_high.webp")
print(type(default_storage._wrapped).__name__, stored.stream.read().decode(), stored.size)
"""


def test_media_storage_s3_sends_the_media_to_the_bucket_and_nothing_to_data_dir(
    tmp_path, s3_endpoint, s3_bucket
):
    data_dir = tmp_path / "data"
    env = s3_environment(data_dir, s3_endpoint, s3_bucket)

    result = manage("shell", "--no-imports", "-c", WRITE_AND_READ, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["S3Storage", "probe", "bytes", "11"]
    assert bucket_keys(s3_endpoint, s3_bucket) == {"images/renditions/probe_high.webp"}
    assert not (data_dir / "media").exists()


def test_media_storage_s3_without_a_bucket_stops_with_one_sentence(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "MEDIA_STORAGE": "s3", "S3_BUCKET": ""}

    result = manage("check", env=env)

    assert result.returncode == 2
    assert "S3_BUCKET" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_media_storage_names_the_variable(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "MEDIA_STORAGE": "ftp"}

    result = manage("check", env=env)

    assert result.returncode == 2
    assert "MEDIA_STORAGE must be local or s3" in result.stderr


def test_check_deploy_is_clean_with_the_documented_production_settings_and_s3(
    tmp_path, s3_endpoint, s3_bucket
):
    # docs/deployment.md: the HTTPS settings of docs/SECURITY.md plus the bucket.
    production = {
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "production-secret-key-for-the-check-" + "z" * 20,
        "API_AUTH": "token",
        "ALLOWED_HOSTS": "models.example.com",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
    }
    env = {**s3_environment(tmp_path, s3_endpoint, s3_bucket), **production}

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
