"""Pending routes: the list, the full record alias, and pending image renditions."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from imaging.tests.pictures import picture
from migration_app.models import PendingModel
from migration_app.services.pending import pending_image_add
from tags.models import Tag

pytestmark = pytest.mark.django_db

RED = picture((90, 60), color=(255, 0, 0))
BLUE = picture((30, 20), color=(0, 0, 255))


@pytest.fixture
def staged(make_pending):
    """Two pending models: the first with two images and tags, the second bare."""
    tags = [Tag.objects.create(name="style"), Tag.objects.create(name="Anime")]
    first = make_pending(
        "first.safetensors",
        name="First",
        description="desc",
        community_links="https://civitai.com/models/1",
        prompt_positive="pos",
        created_at=1_700_000_000_123,
        images=[("model_12_1700000000123_preview.png", RED), ("second.jpg", BLUE)],
        tags=tags,
    )
    second = make_pending("second.ckpt", name="", type="checkpoints")
    return first, second


def test_pending_models_lists_simple_records_oldest_first(api, staged):
    first, second = staged
    response = api.get("/api/migration/pending_models")
    assert response.status_code == 200
    assert response.json() == {
        "models": [
            {
                "id": first.pk,
                "name": "First",
                "type": "loras",
                "image": "model_12_1700000000123_preview.png",
                "tags": [
                    {"id": first.tags.get(name="Anime").pk, "name": "Anime"},
                    {"id": first.tags.get(name="style").pk, "name": "style"},
                ],
                "architecture": "",
                "base_model": "",
                "kind": "",
            },
            # An empty name falls back to the file name of the path.
            {
                "id": second.pk,
                "name": "second.ckpt",
                "type": "checkpoints",
                "image": "",
                "tags": [],
                "architecture": "",
                "base_model": "",
                "kind": "",
            },
        ]
    }


def test_pending_models_query_count_does_not_grow(api, make_pending, django_assert_num_queries):
    tag = Tag.objects.create(name="t")
    for number in range(3):
        make_pending(f"m{number}.safetensors", images=[(f"i{number}.png", RED)], tags=[tag])
    with django_assert_num_queries(2):
        assert len(api.get("/api/migration/pending_models").json()["models"]) == 3
    for number in range(3, 12):
        make_pending(f"m{number}.safetensors", tags=[tag])
    with django_assert_num_queries(2):
        assert len(api.get("/api/migration/pending_models").json()["models"]) == 12


def test_pending_model_returns_the_full_record(api, staged):
    first, _ = staged
    response = api.get(f"/api/migration/pending_model?id={first.pk}&rev=7")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": first.pk,
        "path": first.path,
        "sha256": "",
        "name": "First",
        "type": "loras",
        "size_bytes": len(b"weights"),
        "created_at": 1_700_000_000_123,
        "meta_json": {
            "description": "desc",
            "community_links": "https://civitai.com/models/1",
            "images": ["model_12_1700000000123_preview.png", "second.jpg"],
            "prompts": {"positive": "pos", "negative": ""},
        },
        "tags": [
            {"id": first.tags.get(name="Anime").pk, "name": "Anime"},
            {"id": first.tags.get(name="style").pk, "name": "style"},
        ],
        # Staged without a scan: nothing read from its header yet.
        "file": {
            "format": "safetensors",
            "architecture": "unknown",
            "kind": "unknown",
            "base_model": "",
            "dtype": "",
            "tensor_count": 0,
            "parameters": 0,
            "hashes": {},
            "trigger_words": [],
            "training": {},
            "modelspec": {},
            "header_error": "",
        },
    }


@pytest.mark.parametrize(
    ("query", "status"),
    [("?id=999999", 404), ("", 400), ("?id=abc", 400), ("?id=", 400), ("?id=-3", 400)],
)
def test_pending_model_bad_or_unknown_id(api, query, status):
    response = api.get(f"/api/migration/pending_model{query}")
    assert response.status_code == status
    assert set(response.json()) >= {"error", "code"}


def webp_size(response) -> tuple[int, int]:
    content = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(content))
    assert image.format == "WEBP"
    return image.size


@pytest.mark.parametrize(
    "name",
    [
        "model_12_1700000000123_preview.png",
        "model_12_1700000000123_preview.png.webp",
        "model_12_1700000000123_preview.webp",
    ],
)
def test_pending_image_is_served_in_every_name_form(api, staged, name):
    response = api.get(f"/api/images/pending/{name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert webp_size(response) == (90, 60)


def test_all_digit_name_serves_the_first_image_of_that_pending_model(api, staged):
    first, second = staged
    response = api.get(f"/api/images/pending/{first.pk}?quality=low")
    assert response.status_code == 200
    assert webp_size(response) == (30, 20)  # 0.33 of 90x60
    assert api.get(f"/api/images/pending/{second.pk}").status_code == 404


def test_pending_image_quality_tiers_and_bad_quality(api, staged):
    assert webp_size(api.get("/api/images/pending/second.jpg?quality=medium")) == (20, 13)
    response = api.get("/api/images/pending/second.jpg?quality=best")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_quality"


def test_pending_image_answers_conditional_requests_with_304(api, staged):
    response = api.get("/api/images/pending/second.jpg")
    etag = response["ETag"]
    again = api.get("/api/images/pending/second.jpg", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("absent.png", 404),
        ("second", 200),  # the extension may be left off entirely
        ("SECOND.JPG", 404),  # names are compared exactly, on SQLite too
        ("..%5Csecret.png", 400),
        ("a%00b.png", 400),
        ("x" * 3000, 400),
    ],
)
def test_pending_image_names_are_matched_strictly(api, staged, name, status):
    assert api.get(f"/api/images/pending/{name}").status_code == status


def test_pending_image_names_never_become_all_digits(make_pending):
    pending = make_pending()
    image = pending_image_add(pending_model=pending, content=RED, file_name="12345")
    assert image.file_name == "12345.png"


def test_identical_pictures_are_staged_once(make_pending):
    pending = make_pending(images=[("a.png", RED)])
    assert pending_image_add(pending_model=pending, content=RED, file_name="b.png") is None
    assert PendingModel.objects.get(pk=pending.pk).images.count() == 1


def test_unicode_pending_image_names_are_served(api, make_pending):
    make_pending(images=[("モデル プレビュー.png", RED)])
    response = api.get(
        "/api/images/pending/%E3%83%A2%E3%83%87%E3%83%AB%20%E3%83%97%E3%83%AC%E3%83%93%E3%83%A5%E3%83%BC.webp"
    )
    assert response.status_code == 200
