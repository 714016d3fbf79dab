"""favorite, rating, nsfw: in both forms, set by PATCH, filtered and sorted in the list."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def listed(api, query: str) -> list[str]:
    response = api.get(f"/api/models?type=loras&{query}")
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["models"]]


def test_new_models_are_not_favorite_not_rated_not_nsfw_in_both_forms(api, make_model):
    model = make_model()

    item = api.get("/api/models?type=loras").json()["models"][0]
    full = api.get(f"/api/models/{model.sha256}").json()

    for record in (item, full):
        assert (record["favorite"], record["rating"], record["nsfw"]) == (False, 0, False)


def test_patch_sets_each_field_and_keeps_the_others(api, make_model):
    model = make_model(name="keep me")

    response = api.patch(
        f"/api/models/{model.sha256}", {"favorite": True, "rating": 4}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["favorite"], response.json()["rating"]) == (True, 4)

    api.patch(f"/api/models/{model.sha256}", {"nsfw": True}, format="json")
    model.refresh_from_db()
    assert (model.favorite, model.rating, model.nsfw, model.name) == (True, 4, True, "keep me")


def test_the_whole_record_sent_back_keeps_the_fields(api, make_model):
    model = make_model(favorite=True, rating=5, nsfw=True)
    record = api.get(f"/api/models/{model.sha256}").json()

    response = api.patch(f"/api/models/{model.sha256}", record, format="json")

    assert response.status_code == 200, response.content
    model.refresh_from_db()
    assert (model.favorite, model.rating, model.nsfw) == (True, 5, True)


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 6},
        {"rating": -1},
        {"rating": "4"},
        {"rating": 4.5},
        {"rating": True},
        {"rating": None},
        {"favorite": "yes"},
        {"favorite": 1},
        {"favorite": None},
        {"nsfw": "false"},
        {"name": "renamed", "rating": 9},
    ],
)
def test_patch_with_a_bad_value_is_a_400_naming_the_field_and_changes_nothing(
    api, make_model, body
):
    model = make_model(name="before", rating=2)

    response = api.patch(f"/api/models/{model.sha256}", body, format="json")

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_input"
    assert set(response.json()["fields"]) == set(body) - {"name"}
    model.refresh_from_db()
    assert (model.name, model.rating, model.favorite, model.nsfw) == ("before", 2, False, False)


def test_the_database_refuses_a_rating_above_five(make_model):
    model = make_model()

    with pytest.raises(IntegrityError), transaction.atomic():
        CatalogModel.objects.filter(pk=model.pk).update(rating=6)


@pytest.fixture
def shelf(make_model):
    make_model(name="a plain")
    make_model(name="b favorite", favorite=True, rating=3)
    make_model(name="c nsfw", nsfw=True, rating=5)
    make_model(name="d both", favorite=True, nsfw=True, rating=1)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("favorite=true", ["b favorite", "d both"]),
        ("favorite=false", ["a plain", "c nsfw"]),
        ("favorite=TRUE&nsfw=0", ["b favorite"]),
        ("nsfw=true", ["c nsfw", "d both"]),
        ("nsfw=false", ["a plain", "b favorite"]),
        ("min_rating=3", ["b favorite", "c nsfw"]),
        ("min_rating=0", ["a plain", "b favorite", "c nsfw", "d both"]),
        ("min_rating=5&favorite=false", ["c nsfw"]),
        ("favorite=", ["a plain", "b favorite", "c nsfw", "d both"]),
    ],
)
def test_user_field_filters(api, shelf, query, expected):
    assert listed(api, query) == expected


@pytest.mark.parametrize(
    "query", ["favorite=maybe", "nsfw=2", "min_rating=6", "min_rating=-1", "min_rating=x"]
)
def test_a_bad_user_field_filter_is_a_400_naming_it(api, shelf, query):
    response = api.get(f"/api/models?type=loras&{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"
    assert query.split("=")[0] in response.json()["fields"]


def test_ordering_by_rating_either_way_with_ties_in_sha256_order(api, shelf, make_model):
    make_model("f" * 64, name="e also three", rating=3)

    assert listed(api, "ordering=-rating") == [
        "c nsfw",
        "b favorite",
        "e also three",
        "d both",
        "a plain",
    ]
    assert listed(api, "ordering=rating")[:2] == ["a plain", "d both"]


def test_ordering_by_base_model(api, make_model):
    make_model(name="x", base_model="SDXL 1.0")
    make_model(name="y", base_model="Pony")
    make_model(name="z", base_model="")

    assert listed(api, "ordering=base_model") == ["z", "y", "x"]
    assert listed(api, "ordering=-base_model") == ["x", "y", "z"]


def test_tags_any_keeps_models_with_at_least_one_of_the_tags(api, make_model):
    anime, style, other = (Tag.objects.create(name=n) for n in ("anime", "style", "other"))
    make_model(name="a", tags=[anime])
    make_model(name="b", tags=[style, other])
    make_model(name="c", tags=[other])
    make_model(name="d")

    assert listed(api, f"tags_any={anime.pk},{style.pk}") == ["a", "b"]
    assert listed(api, f"tags_any={anime.pk}&exclude_tags={other.pk}") == ["a"]
    assert api.get("/api/models?type=loras&tags_any=1,x").status_code == 400


def test_missing_filter(api, make_model):
    make_model(name="gone", missing=True, missing_since=1_700_000_000_000)
    make_model(name="here")

    assert listed(api, "missing=true") == ["gone"]
    assert listed(api, "missing=false") == ["here"]
    assert api.get("/api/models?type=loras&missing=perhaps").status_code == 400
