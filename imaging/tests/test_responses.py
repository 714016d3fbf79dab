"""The shared rendition response: bytes, content type, ETag, 304, quality."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.test import RequestFactory

from config.api import InvalidInput, NotFound
from imaging.responses import parse_quality, rendition_response

pytestmark = pytest.mark.django_db


def test_streams_the_webp_with_a_strong_etag(make_model, add_image):
    image = add_image(make_model())

    response = rendition_response(RequestFactory().get("/"), image=image, quality="low")

    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    assert response["ETag"].startswith(f'"{image.uid.hex}-low')


def test_matching_if_none_match_answers_304(make_model, add_image):
    image = add_image(make_model())
    etag = rendition_response(RequestFactory().get("/"), image=image, quality="high")["ETag"]

    request = RequestFactory().get("/", HTTP_IF_NONE_MATCH=etag)
    response = rendition_response(request, image=image, quality="high")
    other = rendition_response(request, image=image, quality="medium")

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert other.status_code == 200


def test_missing_rendition_file_is_not_found(make_model, add_image):
    image = add_image(make_model())
    default_storage.delete(image.rendition_name("high"))

    with pytest.raises(NotFound):
        rendition_response(RequestFactory().get("/"), image=image, quality="high")


@pytest.mark.parametrize(("value", "expected"), [(None, "high"), ("", "high"), ("low", "low")])
def test_parse_quality_defaults_to_high(value, expected):
    assert parse_quality(value) == expected


@pytest.mark.parametrize("value", ["HIGH", "best", "1", ["high"]])
def test_parse_quality_refuses_other_values(value):
    with pytest.raises(InvalidInput):
        parse_quality(value)
