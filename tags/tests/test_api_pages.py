"""GET /api/tags in pages: limit/offset and total, with or without counts."""

from __future__ import annotations

import pytest

from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags(db) -> list[Tag]:
    Tag.objects.bulk_create(Tag(name=f"tag {n:02d}") for n in range(25))
    return list(Tag.objects.order_by("name"))


def names(body: dict) -> list[str]:
    return [tag["name"] for tag in body["tags"]]


def test_without_limit_or_offset_every_tag_comes_as_before(api, tags):
    body = api.get("/api/tags").json()

    assert set(body) == {"tags"}
    assert len(body["tags"]) == 25


def test_a_page_of_tags_carries_the_total(api, tags):
    body = api.get("/api/tags?limit=5&offset=10").json()

    assert body["total"] == 25
    assert names(body) == [f"tag {n:02d}" for n in range(10, 15)]


def test_a_page_with_counts_is_cut_from_the_counted_list(api, tags, make_model):
    make_model(tags=[tags[11], tags[12]])
    make_model(tags=[tags[12]])

    body = api.get("/api/tags?counts=true&limit=3&offset=11").json()

    assert body["total"] == 25
    assert [(tag["name"], tag["count"]) for tag in body["tags"]] == [
        ("tag 11", 1),
        ("tag 12", 2),
        ("tag 13", 0),
    ]


def test_offset_past_the_end_is_an_empty_page(api, tags):
    assert api.get("/api/tags?offset=100").json() == {"tags": [], "total": 25}


@pytest.mark.parametrize("query", ["limit=-2", "offset=x"])
def test_a_malformed_page_parameter_is_a_json_400(api, tags, query):
    response = api.get(f"/api/tags?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"
