"""GET /api/images/original/{name}: the uploaded original, and the admin's links to it."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from imaging.tests.pictures import jpeg_with_exif, picture

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_original_is_served_byte_for_byte_with_its_own_type(api, make_model, add_image):
    model = make_model()
    content = jpeg_with_exif(orientation=6, gps=True)
    image = add_image(model, content=content)

    response = api.get(f"/api/images/original/{model.sha256}_0.jpg")

    assert response.status_code == 200
    assert body(response) == content  # untouched: EXIF and all, as uploaded
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Length"] == str(len(content))
    assert response["ETag"] == f'"{image.uid.hex}-original"'
    assert response["Cache-Control"] == "no-cache"
    assert f'filename="{model.sha256}_0.jpg"' in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("PNG", "image/png"), ("GIF", "image/gif"), ("WEBP", "image/webp"), ("BMP", "image/bmp")],
)
def test_the_content_type_follows_the_decoded_format_not_the_upload_name(
    api, make_model, add_image, image_format, content_type
):
    model = make_model()
    # add_image names every upload x.png: the stored extension comes from the bytes.
    add_image(model, content=picture(image_format=image_format))

    response = api.get(f"/api/images/original/{model.sha256}_0")

    assert response.status_code == 200
    assert response["Content-Type"] == content_type


@pytest.mark.parametrize(
    "name", ["{sha}", "{sha}_1", "{sha}_1.png", "{sha}_1.JPG", "{sha}.webp", "{SHA}_1.gif"]
)
def test_every_name_form_of_the_renditions_reaches_the_same_original(
    api, make_model, add_image, name
):
    model = make_model()
    add_image(model, color=(1, 1, 1))
    second = picture(color=(2, 2, 2))
    add_image(model, content=second)
    path = name.format(sha=model.sha256, SHA=model.sha256.upper())
    query = "?seq=1" if "_" not in path else ""

    response = api.get(f"/api/images/original/{path}{query}")

    assert response.status_code == 200
    assert body(response) == second


def test_a_current_copy_is_answered_304(api, make_model, add_image):
    model = make_model()
    add_image(model)
    url = f"/api/images/original/{model.sha256}_0.png"
    etag = api.get(url)["ETag"]

    again = api.get(url, HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again["ETag"] == etag


@pytest.mark.parametrize(
    "name",
    ["..%2F..%2Fsettings.py", "{sha}_0.png.png", "{sha}_0.", "{sha}_0.tool0ngextension", "*"],
)
def test_a_bad_name_is_a_400(api, make_model, name):
    model = make_model()

    response = api.get(f"/api/images/original/{name.format(sha=model.sha256)}")

    assert response.status_code in (400, 404)
    if response.status_code == 400:
        assert response.json()["code"] == "invalid_image_name"


def test_an_unknown_image_is_a_json_404(api, make_model):
    response = api.get(f"/api/images/original/{make_model().sha256}_0.png")

    assert response.status_code == 404
    assert response.json()["code"] == "image_not_found"


def test_a_missing_original_file_is_a_json_404(api, make_model, add_image):
    model = make_model()
    image = add_image(model)
    image.original.storage.delete(image.original.name)

    response = api.get(f"/api/images/original/{model.sha256}_0.png")

    assert (response.status_code, response.json()["code"]) == (404, "original_missing")


# --- the admin links there -------------------------------------------------------------


@pytest.fixture
def admin_client(admin_user) -> Client:
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin_user)
    return client


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', html)


def test_the_currently_link_of_the_model_page_downloads_the_original(
    admin_client, make_model, add_image
):
    model = make_model()
    content = picture(color=(9, 8, 7))
    add_image(model, content=content)

    page = admin_client.get(f"/admin/catalog/catalogmodel/{model.sha256}/change/")
    assert page.status_code == 200
    html = page.content.decode()

    assert "Currently:" in html
    expected = f"/api/images/original/{model.sha256}_0.png"
    assert expected in links(html)
    assert not [link for link in links(html) if link.startswith("/media/")]
    downloaded = admin_client.get(expected)
    assert downloaded.status_code == 200 and body(downloaded) == content


def test_the_sample_image_page_links_to_the_original(admin_client, make_model, add_image):
    model = make_model()
    image = add_image(model)

    page = admin_client.get(f"/admin/imaging/sampleimage/{image.pk}/change/")

    assert page.status_code == 200
    assert f"/api/images/original/{model.sha256}_0.png" in links(page.content.decode())
