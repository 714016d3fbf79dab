"""The tag routes through HTTP: /api/tags and /api/tags_add."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tags import services
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def add(api, newtags) -> object:
    return api.post("/api/tags_add", {"newtags": newtags}, format="json")


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [tag["name"] for tag in response.json()["tags"]]


def test_tags_lists_every_tag_sorted_by_name_without_regard_to_case(api):
    for name in ("gamma", "Beta", "alpha", "Zeta"):
        Tag.objects.create(name=name)

    response = api.get("/api/tags")

    assert names(response) == ["alpha", "Beta", "gamma", "Zeta"]
    assert all(set(tag) == {"id", "name"} for tag in response.json()["tags"])


def test_tags_is_empty_without_tags(api):
    assert api.get("/api/tags").json() == {"tags": []}


def test_tags_add_creates_missing_tags_in_request_order(api):
    response = add(api, ["b", "a"])

    assert names(response) == ["b", "a"]
    ids = {tag["name"]: tag["id"] for tag in response.json()["tags"]}
    assert ids == dict(Tag.objects.values_list("name", "id"))


def test_tags_add_resolves_existing_tags_without_regard_to_case(api):
    anime = Tag.objects.create(name="anime")

    response = add(api, ["Anime", "new"])

    assert response.json()["tags"][0] == {"id": anime.id, "name": "anime"}
    assert names(response) == ["anime", "new"]
    assert Tag.objects.count() == 2


def test_tags_add_returns_one_entry_per_name_distinct_without_regard_to_case(api):
    response = add(api, ["Style", "style", "STYLE", "other", "Other"])

    assert names(response) == ["Style", "other"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Style", "other"]


def test_a_tag_keeps_the_case_it_was_first_created_with(api):
    add(api, ["PhotoReal"])

    assert names(add(api, ["photoreal"])) == ["PhotoReal"]
    assert names(add(api, ["PHOTOREAL"])) == ["PhotoReal"]
    assert list(Tag.objects.values_list("name", flat=True)) == ["PhotoReal"]


def test_tags_add_trims_names_and_skips_blank_ones(api):
    response = add(api, ["  padded  ", "", "   ", "\t"])

    assert names(response) == ["padded"]
    assert list(Tag.objects.values_list("name", flat=True)) == ["padded"]


def test_tags_add_with_an_empty_list_creates_nothing(api):
    assert add(api, []).json() == {"tags": []}
    assert Tag.objects.count() == 0


def test_a_name_of_64_characters_is_accepted(api):
    assert names(add(api, ["x" * 64])) == ["x" * 64]


@pytest.mark.parametrize(
    "body",
    [
        {"newtags": "anime"},
        {"newtags": {"a": 1}},
        {"newtags": None},
        {"newtags": 5},
        {},
        {"tags": ["a"]},
    ],
)
def test_tags_add_without_a_list_is_a_400(api, body):
    response = api.post("/api/tags_add", body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert "newtags" in response.json()["fields"]
    assert Tag.objects.count() == 0


@pytest.mark.parametrize("item", [5, 1.5, True, None, ["a"], {"name": "a"}])
def test_tags_add_with_an_item_that_is_not_a_string_is_a_400_and_creates_nothing(api, item):
    response = add(api, ["valid", item])

    assert response.status_code == 400
    assert "newtags" in response.json()["fields"]
    assert Tag.objects.count() == 0


@pytest.mark.parametrize("bad", ["x" * 65, "nul\u0000char"])
def test_tags_add_with_an_invalid_name_is_a_400_and_creates_nothing(api, bad):
    response = add(api, ["first", bad, "last"])

    assert response.status_code == 400
    assert response.json()["error"]
    assert Tag.objects.count() == 0


@pytest.mark.parametrize("body", [b"[1]", b'"a"', b"{broken"])
def test_tags_add_with_a_body_that_is_not_an_object_is_a_400(api, body):
    response = api.generic("POST", "/api/tags_add", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_input", "malformed_request"}


def test_tags_add_accepts_a_form_encoded_list(api):
    response = api.post("/api/tags_add", {"newtags": ["a", "b"]})

    assert names(response) == ["a", "b"]


def test_tag_routes_reject_other_methods_with_a_json_405(api):
    assert api.post("/api/tags", {}, format="json").json()["code"] == "method_not_allowed"
    assert api.get("/api/tags_add").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_adding_the_same_new_name_create_one_tag(monkeypatch):
    real_find = services.tag_find

    def slow_find(name: str):
        # Holds every thread between "not found" and "create" so that they all
        # race for the insert, instead of one finishing before the next starts.
        found = real_find(name)
        if found is None:
            time.sleep(0.2)
        return found

    monkeypatch.setattr(services, "tag_find", slow_find)
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: list[object] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        client = APIClient(HTTP_HOST="localhost")
        client.raise_request_exception = False
        # Different cases of one new name, and a name private to each thread.
        spelled = "Fresh" if index % 2 else "fresh"
        try:
            barrier.wait(timeout=10)
            response = client.post(
                "/api/tags_add", {"newtags": [spelled, f"own {index}"]}, format="json"
            )
            with lock:
                results.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [response.status_code for response in results] == [200] * threads_count
    fresh_ids = {response.json()["tags"][0]["id"] for response in results}
    fresh = Tag.objects.filter(name__iexact="fresh")
    assert fresh.count() == 1
    assert fresh_ids == {fresh.get().id}
    assert Tag.objects.count() == 1 + threads_count
