"""Hostile input on every route: each is answered 4xx JSON and changes nothing.

"Nothing" is checked on the database (every row of every table the API
writes) and on disk (every file below the test's folder, which holds the
media folder and secrets planted next to and above it). No answer may carry
the planted secret's bytes.
"""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from imaging.models import SampleImage
from imaging.tests.pictures import bomb_png, picture
from migration_app.tests.conftest import build_legacy_db, legacy_row
from tests_hardening.conftest import MARKER, MODEL_SHA, database_state
from tests_hardening.counts import COUNTS

A = MODEL_SHA
LONG = "x" * 5000

# Path segments as they appear in a URL (the server percent-decodes them once).
HOSTILE_SEGMENTS = [
    "..",
    "..%2f..%2fsecret.txt",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "%2e%2e",
    "%252e%252e%252fsecret.txt",
    "..%5c..%5csecret.txt",
    "..%255c..%255csecret.txt",
    "%2fetc%2fpasswd",
    "%2f" + "%2e%2e%2f" * 8 + "etc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "%5c%5cserver%5cshare",
    f"{A}%00.webp",
    f"{A}_0%00",
    "%00",
    "%c0%ae%c0%ae%c0%afsecret.txt",
    "%ff%fe",
    "....%2f%2f....%2f%2fsecret.txt",
    "secret.txt",
    "db.sqlite3",
    "~",
    LONG,
    f"{A}_{'9' * 400}",
    f"{A}_-1",
    f"{A.upper()}_0x1",
]

# Values as a client sends them in a query string or a JSON body.
HOSTILE_VALUES = [
    "../../secret.txt",
    "..%2f..%2fsecret.txt",
    "%2e%2e%2f%2e%2e%2fsecret.txt",
    "%252e%252e%252f",
    "..\\..\\secret.txt",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "\\\\server\\share\\x",
    "file:///etc/passwd",
    "a\x00b",
    "\x00",
    LONG,
    "9" * 400,
    "-1",
    "1e9999",
    "NaN",
    "1; DROP TABLE tags_tag",
    "' OR '1'='1",
    "<script>alert(1)</script>",
]


# --- what "nothing changed" means ---------------------------------------------------


def disk_state(root: Path) -> dict:
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def guarded(world, api):
    """Send hostile requests through ``guarded.send``; afterwards nothing may differ."""

    class Guard:
        def __init__(self):
            self.before = (database_state(), disk_state(world.root))

        def send(self, method: str, path: str, *, allowed=range(400, 500), **kwargs):
            COUNTS["hostile"] += 1
            response = getattr(api, method)(path, **kwargs)
            assert response.status_code in allowed, (path, response.status_code, response.content)
            assert MARKER not in response.content
            if response.status_code >= 400:
                assert response["Content-Type"].startswith("application/json"), response.content
                body = response.json()
                assert body["error"] and body["code"], body
            return response

    guard = Guard()
    yield guard
    assert (database_state(), disk_state(world.root)) == guard.before


def query_path(path: str, params: dict) -> str:
    return f"{path}?{urlencode(params)}"


# --- names in paths -----------------------------------------------------------------

PATH_ROUTES = [
    ("get", "/api/models/{}"),
    ("patch", "/api/models/{}"),
    ("get", "/api/images/{}"),
    ("get", "/api/images/{}.webp"),
    ("get", "/api/images/{}?quality=low"),
    ("get", "/api/images/pending/{}"),
    ("get", "/api/images/pending/{}.webp"),
    ("delete", "/api/images/{}"),
]


@pytest.mark.parametrize("segment", HOSTILE_SEGMENTS)
@pytest.mark.parametrize("method, template", PATH_ROUTES)
def test_hostile_names_in_paths_are_refused(guarded, method, template, segment):
    kwargs = {"data": {"name": "pwned"}, "format": "json"} if method == "patch" else {}
    guarded.send(method, template.format(segment), **kwargs)


# --- values in query strings --------------------------------------------------------

QUERY_ROUTES = [
    ("get", "/api/images/get_img_num", lambda v: {"sha256": v}),
    ("get", "/api/images/get_img_count", lambda v: {"sha256": v}),
    ("delete", "/api/images/delete", lambda v: {"sha256": v, "seq": "0"}),
    ("delete", "/api/images/delete", lambda v: {"sha256": A, "seq": v}),
    ("get", f"/api/images/{A}", lambda v: {"seq": v}),
    ("get", f"/api/images/{A}.webp", lambda v: {"quality": v}),
    ("get", "/api/images/pending/staged.png", lambda v: {"quality": v}),
    ("get", "/api/migration/pending_model", lambda v: {"id": v}),
    ("get", "/api/models", lambda v: {"type": "loras", "tags": v}),
    ("get", "/api/models", lambda v: {"type": "loras", "exclude_tags": v}),
    ("get", "/api/models", lambda v: {"type": "loras", "ordering": v}),
    ("get", "/api/models", lambda v: {"type": "loras", "limit": v}),
    ("get", "/api/models", lambda v: {"type": "loras", "offset": v}),
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("method, path, params", QUERY_ROUTES)
def test_hostile_query_values_are_refused(guarded, method, path, params, value):
    guarded.send(method, query_path(path, params(value)))


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("parameter", ["type", "q"])
def test_free_text_filters_only_filter(guarded, parameter, value):
    """type and q are text to match, never paths: any value is a 200 or a 400."""
    params = {"type": "loras", parameter: value}
    response = guarded.send("get", query_path("/api/models", params), allowed=(200, 400))
    if response.status_code == 200:
        assert response.json()["models"] == []


# --- values in JSON bodies ----------------------------------------------------------

BODY_ROUTES = [
    ("post", "/api/images/get_sample_imgs", lambda v: {"sha256": v}),
    ("post", "/api/images/get_sample_imgs", lambda v: {"sha256": A, "quality": v}),
    ("post", "/api/migration/import_models", lambda v: {"id": [v]}),
    ("post", "/api/migration/import_models", lambda v: {"id": v}),
    ("post", "/api/migration/import_models", lambda v: {"id": [1], "conflict_strategy": v}),
    ("post", "/api/migration/import_a_model", lambda v: {"id": v}),
    ("post", "/api/models/scan", lambda v: {"type": v}),
    ("post", "/api/migration/migrate_legacy_db", lambda v: {"legacy_db_path": v}),
    ("patch", f"/api/models/{A}", lambda v: {"tags": [v]}),
    ("patch", f"/api/models/{A}", lambda v: {"meta_json": v}),
    ("patch", f"/api/models/{A}", lambda v: {"name": "renamed", "tags": [{"id": v}]}),
]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
@pytest.mark.parametrize("method, path, body", BODY_ROUTES)
def test_hostile_body_values_are_refused(guarded, method, path, body, value):
    guarded.send(method, path, data=body(value), format="json")


@pytest.mark.parametrize("value", [True, [], 2**70, -(2**70), 1.5, [[[]]]])
@pytest.mark.parametrize("method, path, body", BODY_ROUTES)
def test_wrongly_typed_body_values_are_refused(guarded, method, path, body, value):
    # null and {} are left out: they are valid for some of these fields
    # (default quality, no conflict strategy, an empty meta_json object).
    guarded.send(method, path, data=body(value), format="json")


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_hostile_sha256_in_an_upload_is_refused(guarded, value):
    image = SimpleUploadedFile("x.png", picture(), content_type="image/png")
    guarded.send("post", "/api/images/upload", data={"sha256": value, "image": image})


@pytest.mark.parametrize(
    "file_name",
    [
        "../../pwned-upload.png",
        "..\\..\\pwned-upload.png",
        "/tmp/pwned-upload.png",
        "%2e%2e%2fpwned-upload.png",
        "pwned-upload.png\x00.txt",
        "C:\\pwned-upload.png",
        "x" * 300 + ".png",
    ],
)
def test_upload_file_names_never_become_paths(api, world, file_name):
    COUNTS["hostile"] += 1
    before = disk_state(world.root)
    image = SimpleUploadedFile(file_name, picture(color=(1, 2, 3)), content_type="image/png")
    response = api.post("/api/images/upload", {"sha256": A, "image": image})
    assert response.status_code == 201
    assert response.json()["base_name"] == f"{A}_2"
    added = set(disk_state(world.root)) - set(before)
    assert added and all(name.startswith("srv/data/media/images/") for name in added), added
    assert not list(world.root.rglob("pwned-upload*"))
    assert not Path("/tmp/pwned-upload.png").exists()


# --- malformed bodies, wrong content types, sizes -----------------------------------

JSON_ROUTES = [
    ("post", "/api/tags_add"),
    ("post", "/api/images/get_sample_imgs"),
    ("post", "/api/migration/migrate_legacy_db"),
    ("post", "/api/migration/import_models"),
    ("post", "/api/migration/import_a_model"),
    ("post", "/api/models/scan"),
    ("patch", f"/api/models/{A}"),
]

MALFORMED_JSON = [
    b"{",
    b'{"newtags": [',
    b'{"a": 1}}',
    b"[1, 2",
    b"{'single': 'quotes'}",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b"\xff\xfe{\x00}",
    b'{"a": "\xff"}',
    b"[" * 100_000,
    b'{"a": ' * 50_000,
    b"null",
    b'"a string"',
    b"12",
    b"[]",
    b"\x00",
    b"\xef\xbb\xbf{",
]


@pytest.mark.parametrize("body", MALFORMED_JSON, ids=lambda b: repr(b[:12]))
@pytest.mark.parametrize("method, path", JSON_ROUTES)
def test_malformed_json_is_refused(guarded, method, path, body):
    guarded.send(method, path, data=body, content_type="application/json")


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "text/html",
        "application/octet-stream",
        "image/png",
        "application/javascript",
        "application/json-patch+json",
        "nonsense",
    ],
)
@pytest.mark.parametrize("method, path", [*JSON_ROUTES, ("post", "/api/images/upload")])
def test_unsupported_content_types_are_refused(guarded, method, path, content_type):
    response = guarded.send(method, path, data=b'{"newtags": ["x"]}', content_type=content_type)
    assert response.status_code == 415


MALFORMED_MULTIPART = [
    ("multipart/form-data", b"--x\r\nnot multipart"),
    ("multipart/form-data; boundary=", b"--\r\n\r\n"),
    ("multipart/form-data; boundary=abc", b"no boundary in the body at all"),
    ("multipart/form-data; boundary=abc", b"--abc\r\nContent-Disposition: form-data\r\n\r\nx"),
    (
        "multipart/form-data; boundary=abc",
        b'--abc\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\n'
        b"Content-Type: image/png\r\n\r\n\x89PNG\r\n",
    ),
    ("multipart/form-data; boundary=" + "b" * 5000, b"--" + b"b" * 5000 + b"--\r\n"),
    (
        "multipart/form-data; boundary=abc",
        b"".join(
            b'--abc\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nv\r\n' % i
            for i in range(1200)
        )
        + b"--abc--\r\n",
    ),
    (
        "multipart/form-data; boundary=abc",
        b"".join(
            b'--abc\r\nContent-Disposition: form-data; name="image"; filename="%d.png"\r\n'
            b"Content-Type: image/png\r\n\r\nx\r\n" % i
            for i in range(150)
        )
        + b"--abc--\r\n",
    ),
]


@pytest.mark.parametrize("content_type, body", MALFORMED_MULTIPART, ids=range(8))
@pytest.mark.parametrize(
    "path", ["/api/images/upload", "/api/tags_add", "/api/migration/import_models"]
)
def test_malformed_multipart_is_refused(guarded, path, content_type, body):
    guarded.send("post", path, data=body, content_type=content_type)


@pytest.mark.parametrize("method, path", JSON_ROUTES)
def test_huge_json_bodies_are_refused_with_413(guarded, method, path):
    body = json.dumps({"newtags": ["x" * 1024] * 11 * 1024}).encode()
    response = guarded.send(method, path, data=body, content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("method, path", [*JSON_ROUTES, ("post", "/api/images/upload")])
def test_a_body_declared_huge_is_refused_before_it_is_read(guarded, method, path):
    response = guarded.send(
        method, path, data=b"{}", content_type="application/json", CONTENT_LENGTH=str(10**12)
    )
    assert response.status_code == 413


def test_an_upload_over_the_limit_is_refused_with_413(guarded, settings):
    settings.MAX_UPLOAD_MB = 1
    noise = Image.frombytes("RGB", (700, 700), bytes(range(256)) * 5742 + bytes(108))
    content = io.BytesIO()
    noise.save(content, format="PNG", compress_level=0)
    assert len(content.getvalue()) > 1024 * 1024
    image = SimpleUploadedFile("big.png", content.getvalue(), content_type="image/png")
    response = guarded.send("post", "/api/images/upload", data={"sha256": A, "image": image})
    assert response.status_code == 413


# --- pictures that are bombs or lie about what they are -----------------------------


def gif_claiming(width: int, height: int) -> bytes:
    return (
        b"GIF89a"
        + struct.pack("<HH", width, height)
        + b"\x00\x00\x00,\x00\x00\x00\x00"
        + struct.pack("<HH", width, height)
        + b"\x00\x02\x02D\x01\x00;"
    )


valid_png = picture()
valid_jpeg = picture(image_format="JPEG")

LYING_PICTURES = {
    "text named png": (b"just some text, not a picture", "x.png", "image/png"),
    "html named jpg": (b"<html><script>alert(1)</script></html>", "x.jpg", "image/jpeg"),
    "svg": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "x.svg",
        "image/svg+xml",
    ),
    "png magic then garbage": (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "x.png", "image/png"),
    "truncated png": (valid_png[: len(valid_png) // 2], "x.png", "image/png"),
    "truncated jpeg": (valid_jpeg[: len(valid_jpeg) // 2], "x.jpg", "image/jpeg"),
    "postscript": (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "x.png", "image/png"),
    "pdf": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "x.png", "image/png"),
    "zip": (b"PK\x03\x04" + b"\x00" * 100, "x.png", "image/png"),
    "sqlite database": (b"SQLite format 3\x00" + b"\x00" * 200, "x.png", "image/png"),
    "tga-like text": (b"\x00\x00\x02" + b"hello world" * 10, "x.tga", "image/x-tga"),
    "empty file": (b"", "x.png", "image/png"),
    "php with gif magic": (b"GIF89a<?php system($_GET['c']); ?>", "x.gif", "image/gif"),
}


@pytest.mark.parametrize("case", LYING_PICTURES, ids=list(LYING_PICTURES))
def test_files_lying_about_being_pictures_are_refused(guarded, case):
    content, name, content_type = LYING_PICTURES[case]
    image = SimpleUploadedFile(name, content, content_type=content_type)
    response = guarded.send("post", "/api/images/upload", data={"sha256": A, "image": image})
    assert response.status_code in (400, 415)


@pytest.mark.parametrize(
    "bomb",
    [bomb_png(50_000, 50_000), bomb_png(10_000, 10_000), gif_claiming(65_535, 65_535)],
    ids=["png 2.5G pixels", "png 100M pixels", "gif 4G pixels"],
)
def test_decompression_bombs_are_refused_with_400(guarded, bomb):
    image = SimpleUploadedFile("bomb.png", bomb, content_type="image/png")
    response = guarded.send("post", "/api/images/upload", data={"sha256": A, "image": image})
    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large_in_pixels"


# --- text that is not UTF-8 ---------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/images/get_img_num?sha256=%ff%fe",
        f"/api/images/delete?sha256={A}&seq=%ff",
        "/api/migration/pending_model?id=%c3%28",
        "/api/models?type=loras&tags=%80",
        "/api/models/%e2%28%a1",
        "/api/images/pending/%ff.png",
    ],
)
def test_non_utf8_in_urls_is_refused(guarded, path):
    method = "delete" if "/delete?" in path else "get"
    guarded.send(method, path)


def test_non_utf8_in_a_multipart_field_is_refused(guarded):
    body = (
        b'--abc\r\nContent-Disposition: form-data; name="sha256"\r\n\r\n'
        + "é".encode("latin-1") * 64
        + b'\r\n--abc\r\nContent-Disposition: form-data; name="image"; filename="x.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + valid_png + b"\r\n--abc--\r\n"
    )
    guarded.send(
        "post", "/api/images/upload", data=body, content_type="multipart/form-data; boundary=abc"
    )


# --- wrong methods ------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("put", "/api/tags_add"),
        ("get", "/api/tags_add"),
        ("put", f"/api/models/{A}"),  # DELETE removes a record (docs/library-health.md)
        ("post", f"/api/models/{A}"),
        ("post", "/api/images/delete"),
        ("get", "/api/images/upload"),
        ("put", "/api/migration/import_models"),
        ("delete", "/api/migration/pending_models"),
        ("get", "/api/models/scan"),
        ("patch", "/api/hello"),
    ],
)
def test_wrong_methods_are_refused_with_405(guarded, method, path):
    response = guarded.send(method, path)
    assert response.status_code == 405


# --- the legacy database path -------------------------------------------------------


@pytest.fixture
def outside_legacy_db(world) -> Path:
    """A valid legacy database outside the allowed roots; importing it would add a model."""
    rows = [legacy_row(1, "/m/loras/outside.safetensors", hash_hex="e" * 64)]
    return build_legacy_db(world.outside / "legacy.db", rows=rows)


@pytest.fixture
def allowed_root(world, settings) -> Path:
    root = world.root / "legacy"
    root.mkdir()
    settings.LEGACY_IMPORT_ROOTS = [root.resolve()]
    return root


@pytest.fixture
def escaping_links(allowed_root, outside_legacy_db, world) -> None:
    """Symlinks inside the allowed root that point outside it."""
    (allowed_root / "link.db").symlink_to(outside_legacy_db)
    (allowed_root / "dir-link").symlink_to(world.outside)


def test_legacy_paths_outside_the_allowed_roots_are_refused(
    world, outside_legacy_db, allowed_root, escaping_links, guarded
):
    attempts = [
        str(outside_legacy_db),
        f"{allowed_root}/../outside/legacy.db",
        f"{allowed_root}/./../../{world.root.name}/outside/legacy.db",
        str(allowed_root / "link.db"),
        str(allowed_root / "dir-link" / "legacy.db"),
        str(world.root / "srv" / "data" / "db.sqlite3"),
        "/etc/passwd",
        f"{allowed_root}\x00/../../outside/legacy.db",
    ]
    for attempt in attempts:
        response = guarded.send(
            "post",
            "/api/migration/migrate_legacy_db",
            data={"legacy_db_path": attempt},
            format="json",
        )
        assert response.json()["code"] in ("path_not_allowed", "invalid_input"), attempt


@pytest.fixture
def inside_legacy_db(outside_legacy_db, allowed_root) -> Path:
    inside_db = allowed_root / "legacy.db"
    inside_db.write_bytes(outside_legacy_db.read_bytes())
    return inside_db


def test_legacy_images_outside_the_allowed_roots_are_refused(
    world, inside_legacy_db, allowed_root, guarded
):
    inside_db = inside_legacy_db
    for attempt in (str(world.outside), f"{allowed_root}/../outside", "/etc"):
        response = guarded.send(
            "post",
            "/api/migration/migrate_legacy_db",
            data={"legacy_db_path": str(inside_db), "legacy_images_dir": attempt},
            format="json",
        )
        assert response.json()["code"] == "path_not_allowed", attempt


def test_a_legacy_image_symlinked_from_outside_the_roots_is_not_read(
    api, world, allowed_root, settings
):
    secret_picture = world.outside / "private.png"
    secret_picture.write_bytes(picture(color=(9, 9, 9)))
    images = allowed_root / "images"
    images.mkdir()
    (images / "model_1_preview.png").symlink_to(secret_picture)
    rows = [
        legacy_row(
            1,
            "/m/loras/inside.safetensors",
            hash_hex="d" * 64,
            extra={"images": ["/media/model_1_preview.png"]},
        )
    ]
    legacy_db = build_legacy_db(allowed_root / "legacy.db", rows=rows)
    COUNTS["hostile"] += 1
    response = api.post(
        "/api/migration/migrate_legacy_db",
        {"legacy_db_path": str(legacy_db), "legacy_images_dir": str(images)},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["image_migration"]["processed"] == 0
    assert not SampleImage.objects.filter(model_id="d" * 64).exists()


def test_the_service_database_is_refused_as_a_legacy_database(guarded, world):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the service database is a file only on SQLite")
    response = guarded.send(
        "post",
        "/api/migration/migrate_legacy_db",
        data={"legacy_db_path": str(connection.settings_dict["NAME"])},
        format="json",
    )
    assert response.status_code == 400


def test_percent_encoding_in_json_paths_is_not_decoded(world, outside_legacy_db, guarded):
    encoded = quote(str(outside_legacy_db), safe="")
    guarded.send(
        "post", "/api/migration/migrate_legacy_db", data={"legacy_db_path": encoded}, format="json"
    )
