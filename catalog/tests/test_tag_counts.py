"""GET /api/tags?counts=true: how many catalog models carry each tag, within the list's filters."""

from __future__ import annotations

import pytest

from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def counts(api, query: str = "") -> dict[str, int]:
    response = api.get(f"/api/tags?counts=true{query}")
    assert response.status_code == 200, response.content
    return {tag["name"]: tag["count"] for tag in response.json()["tags"]}


@pytest.fixture
def library(make_model):
    anime, style, unused = (Tag.objects.create(name=n) for n in ("anime", "Style", "unused"))
    make_model(tags=[anime, style], type="loras", name="painterly anime")
    make_model(tags=[anime], type="loras", name="flat colors")
    make_model(tags=[anime, style], type="checkpoints", name="anime base")
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([unused])  # pending models are not counted
    return anime, style, unused


def test_without_counts_the_list_keeps_its_old_shape(api, library):
    response = api.get("/api/tags")

    assert response.json() == {
        "tags": [
            {"id": t.pk, "name": t.name} for t in sorted(library, key=lambda t: t.name.lower())
        ]
    }


def test_counts_are_catalog_models_carrying_each_tag_sorted_by_name(api, library):
    response = api.get("/api/tags?counts=true")

    assert [tag["name"] for tag in response.json()["tags"]] == ["anime", "Style", "unused"]
    assert counts(api) == {"anime": 3, "Style": 2, "unused": 0}


def test_filters_count_within_the_selection(api, library):
    anime, style, _ = library

    assert counts(api, "&type=loras") == {"anime": 2, "Style": 1, "unused": 0}
    assert counts(api, "&type=loras&q=painterly") == {"anime": 1, "Style": 1, "unused": 0}
    assert counts(api, f"&tags={style.pk}") == {"anime": 2, "Style": 2, "unused": 0}
    assert counts(api, f"&exclude_tags={style.pk}") == {"anime": 1, "Style": 0, "unused": 0}
    assert counts(api, "&type=vae") == {"anime": 0, "Style": 0, "unused": 0}


def test_user_field_filters_count_within_the_selection(api, library, make_model):
    anime, _, _ = library
    make_model(tags=[anime], favorite=True, rating=4)

    assert counts(api, "&favorite=true") == {"anime": 1, "Style": 0, "unused": 0}
    assert counts(api, "&min_rating=3") == {"anime": 1, "Style": 0, "unused": 0}


@pytest.mark.parametrize(
    "query", ["counts=maybe", "counts=true&tags=x", "counts=true&min_rating=9"]
)
def test_a_bad_counts_or_filter_value_is_a_400(api, library, query):
    response = api.get(f"/api/tags?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"


def test_counts_take_constant_queries_whatever_the_number_of_tags_and_models(
    api, make_model, django_assert_num_queries
):
    for size in (3, 30):
        tags = [Tag.objects.create(name=f"tag {size} {n}") for n in range(size)]
        for n in range(size):
            make_model(tags=tags[: n + 1], type="loras")
        with django_assert_num_queries(2):
            api.get("/api/tags?counts=true")
        # q adds one: the tags whose names hold a search term.
        with django_assert_num_queries(3):
            api.get("/api/tags?counts=true&type=loras&q=model")
