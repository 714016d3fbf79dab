"""Access control: API_AUTH=none and API_AUTH=token, origins, hosts, tokens."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from tags.models import Tag
from tests_hardening.conftest import database_state

ROOT = Path(__file__).resolve().parent.parent
EVIL = "http://evil.example"


def tag_names() -> list[str]:
    return sorted(Tag.objects.values_list("name", flat=True))


def assert_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert body["error"]


# --- API_AUTH=none (the default) ---------------------------------------------------


@pytest.mark.django_db
def test_default_mode_reads_and_writes_without_credentials(api, make_model):
    make_model(type="loras")
    assert api.get("/api/models", {"type": "loras"}).status_code == 200
    response = api.post("/api/tags_add", {"newtags": ["style"]}, format="json")
    assert response.status_code == 200
    assert tag_names() == ["style"]


@pytest.mark.django_db
def test_default_mode_ignores_an_admin_session_so_the_web_client_needs_no_csrf_token(
    django_user_model,
):
    admin = django_user_model.objects.create_superuser("admin", password="x" * 12)
    browser = APIClient(HTTP_HOST="localhost", enforce_csrf_checks=True)
    browser.force_login(admin)
    response = browser.post("/api/tags_add", {"newtags": ["anime"]}, format="json")
    assert response.status_code == 200
    assert tag_names() == ["anime"]


@pytest.mark.django_db
def test_default_mode_ignores_tokens(api):
    response = api.get("/api/tags", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["evil.example", "192.168.1.20", "localhost.evil.example"])
def test_a_host_outside_allowed_hosts_is_refused_as_json(api, host):
    # What stops DNS rebinding: a page on evil.example resolving to 127.0.0.1
    # still sends Host: evil.example.
    response = api.post("/api/tags_add", {"newtags": ["x"]}, format="json", HTTP_HOST=host)
    assert_json_error(response, 400, "host_not_allowed")
    assert tag_names() == []


# --- browser origins (every mode) ---------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["none", "token"])
@pytest.mark.parametrize(
    "content_type, body",
    [
        ("json", {"newtags": ["pwned"]}),
        ("multipart", {"newtags": ["pwned"]}),
    ],
)
def test_writes_from_a_foreign_page_are_refused(settings, client_for, mode, content_type, body):
    settings.API_AUTH = mode
    client = client_for("alice", staff=True)
    response = client.post("/api/tags_add", body, format=content_type, HTTP_ORIGIN=EVIL)
    assert_json_error(response, 403, "cross_origin_refused")
    assert tag_names() == []


@pytest.mark.django_db
def test_a_cross_site_fetch_without_origin_is_refused(api):
    response = api.post(
        "/api/tags_add", {"newtags": ["x"]}, format="json", HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert_json_error(response, 403, "cross_origin_refused")


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["null", "http://localhost.evil.example", "not a url"])
def test_odd_origins_are_refused(api, origin):
    response = api.post("/api/tags_add", {"newtags": ["x"]}, format="json", HTTP_ORIGIN=origin)
    assert_json_error(response, 403, "cross_origin_refused")
    assert tag_names() == []


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["http://localhost", "https://localhost"])
def test_the_service_own_pages_may_write(api, origin):
    response = api.post("/api/tags_add", {"newtags": ["own"]}, format="json", HTTP_ORIGIN=origin)
    assert response.status_code == 200
    assert tag_names() == ["own"]


@pytest.mark.django_db
def test_reads_from_a_foreign_page_get_no_cors_headers_by_default(api):
    response = api.get("/api/tags", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response
    preflight = api.options(
        "/api/tags_add",
        HTTP_ORIGIN=EVIL,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert "Access-Control-Allow-Origin" not in preflight


@pytest.mark.django_db
def test_a_configured_origin_may_read_and_write_with_cors_headers(api, settings):
    comfy = "http://127.0.0.1:8188"
    settings.CORS_ALLOWED_ORIGINS = [comfy]
    response = api.post("/api/tags_add", {"newtags": ["comfy"]}, format="json", HTTP_ORIGIN=comfy)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == comfy
    missing = api.get("/api/models/" + "0" * 64, HTTP_ORIGIN=comfy)
    assert missing.status_code == 404
    assert missing["Access-Control-Allow-Origin"] == comfy


# --- API_AUTH=token -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/models/get_types", None),
        ("get", "/api/models?type=loras", None),
        ("get", "/api/tags", None),
        ("post", "/api/tags_add", {"newtags": ["x"]}),
        ("patch", "/api/models/" + "a" * 64, {"name": "x"}),
    ],
)
def test_token_mode_refuses_anonymous_calls_with_401(api, token_mode, method, path, body):
    response = getattr(api, method)(path, body, format="json")
    assert_json_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"
    assert tag_names() == []


@pytest.mark.django_db
def test_token_mode_refuses_a_wrong_token(api, token_mode):
    response = api.get("/api/tags", HTTP_AUTHORIZATION="Token 0123456789abcdef")
    assert_json_error(response, 401, "authentication_failed")


@pytest.mark.django_db
def test_token_mode_keeps_the_health_check_open(api, token_mode):
    assert api.get("/api/hello").json() == {"status": "ok"}


@pytest.mark.django_db
def test_token_mode_lets_a_user_read_and_write(token_mode, client_for, make_model):
    model = make_model()
    client = client_for("alice")
    assert client.get("/api/models", {"type": "loras"}).json()["models"][0]["sha256"]
    response = client.patch(f"/api/models/{model.sha256}", {"name": "renamed"}, format="json")
    assert response.status_code == 200
    model.refresh_from_db()
    assert model.name == "renamed"


@pytest.mark.django_db
def test_token_mode_accepts_the_admin_session_with_its_csrf_token(token_mode, django_user_model):
    user = django_user_model.objects.create_user("curator", password="x" * 12)
    browser = APIClient(HTTP_HOST="localhost", enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/api/tags").status_code == 200
    refused = browser.post("/api/tags_add", {"newtags": ["a"]}, format="json")
    assert_json_error(refused, 403, "permission_denied")
    assert "CSRF" in refused.json()["error"]
    assert tag_names() == []

    browser.get("/admin/login/")  # sets the csrftoken cookie
    csrf = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/tags_add", {"newtags": ["a"]}, format="json", HTTP_X_CSRFTOKEN=csrf
    )
    assert accepted.status_code == 200
    assert tag_names() == ["a"]


# --- create_api_token ---------------------------------------------------------------


@pytest.mark.django_db
def test_create_api_token_prints_a_key_the_api_accepts(token_mode, capsys):
    call_command("create_api_token", "bob", "--create")
    key = capsys.readouterr().out.strip()
    client = APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/tags").status_code == 200


@pytest.mark.django_db
def test_create_api_token_prints_the_same_key_until_rotated(token_mode, capsys):
    call_command("create_api_token", "bob", "--create")
    first = capsys.readouterr().out.strip()
    call_command("create_api_token", "bob")
    assert capsys.readouterr().out.strip() == first
    call_command("create_api_token", "bob", "--rotate")
    second = capsys.readouterr().out.strip()
    assert second != first
    old = APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {first}")
    assert old.get("/api/tags").status_code == 401


@pytest.mark.django_db
def test_create_api_token_sets_and_clears_staff(django_user_model):
    call_command("create_api_token", "carol", "--create", "--staff")
    assert django_user_model.objects.get(username="carol").is_staff
    call_command("create_api_token", "carol", "--no-staff")
    assert not django_user_model.objects.get(username="carol").is_staff


@pytest.mark.django_db
def test_create_api_token_refuses_an_unknown_user_without_create(django_user_model):
    with pytest.raises(CommandError, match="--create"):
        call_command("create_api_token", "nobody")
    assert not django_user_model.objects.exists()


# --- configuration ------------------------------------------------------------------


def run_check(**env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "variable, value",
    [
        ("API_AUTH", "password"),
        ("LEGACY_IMPORT_ROOTS", "relative/folder"),
        ("SECURE_PROXY_SSL_HEADER", "X Forwarded Proto"),
    ],
)
def test_a_bad_security_variable_stops_start_up_naming_it(tmp_path, variable, value):
    result = run_check(DATA_DIR=str(tmp_path), **{variable: value})
    assert result.returncode != 0
    assert f"{variable} must" in result.stderr


def test_open_api_on_a_lan_address_is_warned_about(settings):
    settings.ALLOWED_HOSTS = ["localhost", "192.168.1.20"]
    messages = [m for m in checks.run_checks(tags=["security"]) if m.id == "config.W001"]
    assert messages and "192.168.1.20" in messages[0].msg
    settings.API_AUTH = "token"
    assert not [m for m in checks.run_checks(tags=["security"]) if m.id == "config.W001"]


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    production = {
        "DATA_DIR": str(tmp_path),
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "production-secret-key-for-the-check-" + "z" * 20,
        "API_AUTH": "token",
        "ALLOWED_HOSTS": "models.example.com",
        "SECURE_SSL_REDIRECT": "true",
        "SESSION_COOKIE_SECURE": "true",
        "CSRF_COOKIE_SECURE": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    }
    environ = {**os.environ, **production}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


# --- every route in token mode ------------------------------------------------------


def api_operations() -> list[tuple[str, str]]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (
            method,
            re.sub(  # numeric ids (job_id, ...)
                r"\{\w*id\}",
                "1",
                path.replace("{sha256}", "a" * 64).replace("{name}", f"{'a' * 64}_0"),
            ),
        )
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "patch", "put", "delete"}
    ]


OPEN_ROUTES = {"/api/hello", "/api/schema/"}


def test_token_mode_refuses_every_other_route_to_anonymous_callers(api, token_mode, world):
    before = database_state()
    operations = [op for op in api_operations() if op[1] not in OPEN_ROUTES]
    assert len(operations) >= 18
    for method, path in operations:
        response = getattr(api, method)(path, {}, format="json")
        assert_json_error(response, 401, "not_authenticated")
    assert database_state() == before


STAFF_ACTIONS = [
    ("delete", f"/api/images/delete?sha256={'a' * 64}&seq=0", None),
    ("post", "/api/models/scan", {}),
    ("post", "/api/migration/migrate_legacy_db", {"legacy_db_path": "/no/such/legacy.db"}),
    ("post", "/api/migration/import_models", {"id": [1]}),
    ("post", "/api/migration/import_a_model", {"id": 1}),
]


@pytest.mark.parametrize("method, path, body", STAFF_ACTIONS)
def test_token_mode_keeps_staff_actions_from_other_users(
    token_mode, client_for, world, method, path, body
):
    before = database_state()
    response = getattr(client_for("alice"), method)(path, body, format="json")
    assert_json_error(response, 403, "staff_required")
    assert database_state() == before


def test_token_mode_lets_staff_delete_images_and_scan(token_mode, client_for, world):
    curator = client_for("curator", staff=True)
    response = curator.delete(f"/api/images/delete?sha256={world.model.sha256}&seq=0")
    assert response.status_code == 200
    assert world.model.images.count() == 1
    scan = curator.post("/api/models/scan", {}, format="json")
    assert scan.status_code == 200
    assert scan.json()["scanned"] == 1


def test_token_mode_lets_any_user_upload(token_mode, client_for, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from imaging.tests.pictures import picture

    image = SimpleUploadedFile("x.png", picture(), content_type="image/png")
    response = client_for("alice").post(
        "/api/images/upload", {"sha256": world.model.sha256, "image": image}
    )
    assert response.status_code == 201
    assert world.model.images.count() == 3


# --- LEGACY_IMPORT_ROOTS ------------------------------------------------------------


def test_legacy_import_below_an_allowed_root_works(api, world, settings):
    from migration_app.tests.conftest import build_legacy_db, legacy_row

    root = world.root / "legacy"
    root.mkdir()
    settings.LEGACY_IMPORT_ROOTS = [root.resolve()]
    rows = [legacy_row(1, "/m/loras/allowed.safetensors", hash_hex="e" * 64)]
    (root / "nested").mkdir()
    legacy_db = build_legacy_db(root / "nested" / "legacy.db", rows=rows)
    response = api.post(
        "/api/migration/migrate_legacy_db", {"legacy_db_path": str(legacy_db)}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["db_migration"]["migrated"] == 1
