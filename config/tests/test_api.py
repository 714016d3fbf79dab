"""Project-wide HTTP behaviour: JSON errors, CORS, the API schema and the landing page."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

ORIGIN = "http://localhost:8188"


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code and body["error"]
    return body


# --- errors -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/nope", "/api/models/abc/extra", "/api/hello/"])
def test_an_unknown_api_route_is_a_json_404(method, path):
    # enforce_csrf_checks: what a browser or curl gets, not the test client's exemption.
    client = APIClient(HTTP_HOST="localhost", enforce_csrf_checks=True)

    response = getattr(client, method)(path, {"a": 1}, format="json")

    assert_json_error(response, 404, "not_found")


def test_a_page_outside_the_api_that_does_not_exist_is_a_404(api):
    assert api.get("/no/such/page").status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("delete", "/api/hello"),
        ("post", "/api/models/get_types"),
        ("put", "/api/models"),
        ("post", "/api/tags"),
        ("get", "/api/tags_add"),
    ],
)
def test_a_wrong_method_is_a_json_405(api, method, path):
    assert_json_error(getattr(api, method)(path), 405, "method_not_allowed")


def test_malformed_json_is_a_json_400(api, make_model):
    model = make_model()

    for path, method in ((f"/api/models/{model.sha256}", "PATCH"), ("/api/tags_add", "POST")):
        response = api.generic(method, path, b'{"name": ', content_type="application/json")
        assert_json_error(response, 400, "malformed_request")


@pytest.mark.parametrize("path", ["/api/hello", "/api/models?type=loras", "/", "/admin/"])
def test_a_disallowed_host_header_is_a_json_400(path):
    client = APIClient(HTTP_HOST="attacker.example")
    client.raise_request_exception = False

    body = assert_json_error(client.get(path), 400, "host_not_allowed")
    assert body["error"].startswith("Host 'attacker.example' is not allowed; set ALLOWED_HOSTS")


# --- CORS -------------------------------------------------------------------------


def test_cors_headers_are_absent_by_default(api):
    response = api.get("/api/hello", HTTP_ORIGIN=ORIGIN)

    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.parametrize(
    "path, status",
    [
        ("/api/hello", 200),
        ("/api/models?type=loras", 200),
        ("/api/nope", 404),
        ("/api/models", 400),
        ("/api/models/xyz", 400),
        (f"/api/models/{'a' * 64}", 404),
    ],
)
def test_an_allowed_origin_gets_cors_headers_on_success_and_on_errors(api, settings, path, status):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    response = api.get(path, HTTP_ORIGIN=ORIGIN)

    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_an_allowed_origin_gets_cors_headers_on_a_refused_write(api, settings, make_model):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    model = make_model()

    response = api.patch(
        f"/api/models/{model.sha256}", {"tags": [999]}, format="json", HTTP_ORIGIN=ORIGIN
    )

    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_a_preflight_from_an_allowed_origin_allows_patch(api, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    response = api.options(
        "/api/models/" + "a" * 64,
        HTTP_ORIGIN=ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="PATCH",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "PATCH" in response["Access-Control-Allow-Methods"]


def test_a_foreign_origin_gets_no_cors_headers(api, settings):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    for path in ("/api/hello", "/api/nope"):
        response = api.get(path, HTTP_ORIGIN="http://evil.example")
        assert "Access-Control-Allow-Origin" not in response


# --- OpenAPI ----------------------------------------------------------------------

ISSUE_2_OPERATIONS = {
    ("/api/hello", "get"),
    ("/api/models", "get"),
    ("/api/models/get_types", "get"),
    ("/api/models/{sha256}", "get"),
    ("/api/models/{sha256}", "patch"),
    ("/api/tags", "get"),
    ("/api/tags_add", "post"),
}


def test_schema_lists_every_catalog_and_tag_route(api):
    response = api.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    listed = {(path, method) for path, item in paths.items() for method in item}
    assert ISSUE_2_OPERATIONS <= listed


def test_schema_describes_the_list_parameters_and_the_patch_body(api):
    schema = api.get("/api/schema/?format=json").json()

    list_params = {p["name"] for p in schema["paths"]["/api/models"]["get"]["parameters"]}
    assert {"type", "q", "tags", "exclude_tags", "ordering", "limit", "offset"} <= list_params
    patch_ref = schema["paths"]["/api/models/{sha256}"]["patch"]["requestBody"]["content"][
        "application/json"
    ]["schema"]["$ref"]
    patch_body = schema["components"]["schemas"][patch_ref.rsplit("/", 1)[-1]]["properties"]
    assert {"name", "type", "path", "tags", "meta_json"} <= set(patch_body)
    assert {"integer", "object"} == {
        option["type"] for option in patch_body["tags"]["items"]["oneOf"]
    }
    assert {"object", "string"} == {option["type"] for option in patch_body["meta_json"]["oneOf"]}


def test_schema_of_catalog_and_tags_generates_without_warnings():
    GENERATOR_STATS.reset()

    schema = SchemaGenerator().get_schema(request=None, public=True)

    validate_schema(schema)
    mine = [
        message
        for message in GENERATOR_STATS._warn_cache
        if any(part in message for part in ("catalog/", "tags/", "/api/models", "/api/tags"))
    ]
    assert mine == []


def test_api_docs_render_as_html(api):
    response = api.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/schema/" in response.content


# --- landing page -----------------------------------------------------------------


def test_landing_page_shows_counts_and_links(api, make_model):
    anime = Tag.objects.create(name="anime")
    make_model(type="loras", tags=[anime])
    make_model(type="loras")
    make_model(type="checkpoints")
    PendingModel.objects.create(path="/m/new.safetensors")

    response = api.get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response.context["model_count"] == 3
    assert response.context["pending_count"] == 1
    assert response.context["tag_count"] == 1
    html = response.content.decode()
    assert "<dd>3</dd>" in html
    assert 'href="/api/docs/"' in html and 'href="/admin/"' in html
