"""What a person sees in a browser: the admin's titles, dates and favicon, the API docs."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_the_admin_is_titled_as_the_model_library(staff):
    html = staff.get("/admin/").content.decode()

    assert "<title>Catalog, staging and tags | Model library admin</title>" in html
    assert ">Model library</a>" in html
    assert "Django administration" not in html


def test_file_hashes_are_spelled_so(staff):
    html = staff.get("/admin/").content.decode()

    assert "File hashes" in html and "hashs" not in html


def test_every_admin_page_names_a_favicon_that_exists(staff, client):
    html = staff.get("/admin/").content.decode()

    assert '<link rel="icon" type="image/svg+xml" href="/static/config/favicon.svg">' in html
    svg = client.get("/static/config/favicon.svg")
    assert svg.status_code == 200
    assert b"<svg" in b"".join(svg.streaming_content)


def test_favicon_ico_is_served_at_the_root(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO header


def test_the_catalog_change_page_shows_created_as_a_date_in_the_time_zone(
    staff, make_model, settings
):
    settings.TIME_ZONE = "America/New_York"
    model = make_model(created_at=1_700_000_000_000)  # 2023-11-14 22:13:20 UTC

    url = reverse("admin:catalog_catalogmodel_change", args=[model.sha256])
    html = staff.get(url).content.decode()

    assert "Nov. 14, 2023, 5:13 p.m." in html
    assert "1700000000000" not in html


def test_the_catalog_change_page_keeps_working_with_an_unknown_date(staff, make_model):
    model = make_model(created_at=0)

    url = reverse("admin:catalog_catalogmodel_change", args=[model.sha256])
    response = staff.get(url)

    assert response.status_code == 200
    assert response.context["adminform"].form.instance.created_at == 0


def schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_without_accounts_the_api_docs_offer_no_authorize(client, settings):
    settings.API_AUTH = "none"

    document = schema(client)

    assert "securitySchemes" not in document.get("components", {})
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations and all("security" not in op for op in operations)


def test_with_tokens_the_api_docs_describe_the_token(staff, settings):
    settings.API_AUTH = "token"

    document = schema(staff)

    assert "tokenAuth" in document["components"]["securitySchemes"]


def test_the_api_docs_page_loads_its_assets_from_this_server(client):
    html = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "//cdn" not in html
