"""GET /api/migration/pending_models in pages: limit/offset and total, as /api/models."""

from __future__ import annotations

import pytest

from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirty(db) -> list[PendingModel]:
    """30 pending models; every third carries the tag "t"."""
    tag = Tag.objects.create(name="t")
    PendingModel.objects.bulk_create(
        PendingModel(path=f"/library/loras/m{n:02d}.safetensors", type="loras") for n in range(30)
    )
    rows = list(PendingModel.objects.order_by("id"))
    for row in rows[::3]:
        row.tags.add(tag)
    return rows


def names(body: dict) -> list[str]:
    return [item["name"] for item in body["models"]]


def test_without_limit_or_offset_the_answer_is_as_before(api, thirty):
    body = api.get("/api/migration/pending_models").json()

    assert set(body) == {"models"}
    assert len(body["models"]) == 30


def test_limit_and_offset_give_one_page_and_the_total(api, thirty):
    body = api.get("/api/migration/pending_models?limit=10&offset=10").json()

    assert body["total"] == 30
    assert names(body) == [f"m{n:02d}.safetensors" for n in range(10, 20)]
    # Tags belong to the page's own rows only.
    tagged = {item["name"] for item in body["models"] if item["tags"]}
    assert tagged == {f"m{n:02d}.safetensors" for n in (12, 15, 18)}


def test_pages_cover_every_row_once(api, thirty):
    seen = []
    for offset in range(0, 30, 7):
        seen += names(api.get(f"/api/migration/pending_models?limit=7&offset={offset}").json())

    assert seen == [f"m{n:02d}.safetensors" for n in range(30)]


@pytest.mark.parametrize(
    "query, count",
    [("limit=5", 5), ("offset=25", 5), ("offset=40", 0), ("limit=0", 0), ("limit=&offset=", 30)],
)
def test_either_parameter_alone_pages(api, thirty, query, count):
    body = api.get(f"/api/migration/pending_models?{query}").json()

    assert len(body["models"]) == count
    assert ("total" in body) == (query != "limit=&offset=")


@pytest.mark.parametrize("query", ["limit=-1", "limit=abc", "offset=1.5", "limit=²"])
def test_a_malformed_page_parameter_is_a_json_400_naming_it(api, thirty, query):
    response = api.get(f"/api/migration/pending_models?{query}")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert query.split("=")[0] in body["fields"]


def test_a_page_costs_three_queries_whatever_the_size(api, thirty, django_assert_num_queries):
    with django_assert_num_queries(3):
        assert len(api.get("/api/migration/pending_models?limit=10").json()["models"]) == 10
    PendingModel.objects.bulk_create(
        PendingModel(path=f"/library/more/{n}.safetensors") for n in range(100)
    )
    with django_assert_num_queries(3):
        body = api.get("/api/migration/pending_models?limit=50&offset=60").json()
    assert len(body["models"]) == 50 and body["total"] == 130
