"""PATCH /api/models/{sha256}: clients send the whole record back."""

from __future__ import annotations

import json

import pytest

from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

SHA = "cd" * 32


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


@pytest.fixture
def model(make_model):
    return make_model(
        SHA,
        name="Original",
        type="loras",
        path="/m/loras/original.safetensors",
        size_bytes=1234,
        created_at=1_700_000_000_000,
        description="first",
        community_links="https://example.org/o",
        prompt_positive="pos",
        prompt_negative="neg",
        extra_meta={"base_model": "SDXL"},
    )


def patch(api, body, sha: str = SHA):
    return api.patch(f"/api/models/{sha}", body, format="json")


def snapshot(sha: str = SHA) -> dict:
    """Everything stored about a model, to prove a refused request changed nothing."""
    row = CatalogModel.objects.filter(sha256=sha).values().get()
    row["tags"] = sorted(CatalogModel.objects.get(sha256=sha).tags.values_list("id", flat=True))
    return row


def test_patch_returns_the_full_updated_record(api, model):
    response = patch(api, {"name": "Renamed", "type": "checkpoints", "path": "/m/new.ckpt"})

    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert body["type"] == "checkpoints"
    assert body["path"] == "/m/new.ckpt"
    assert body["meta_json"]["description"] == "first"
    stored = CatalogModel.objects.get(sha256=SHA)
    assert (stored.name, stored.type, stored.path) == ("Renamed", "checkpoints", "/m/new.ckpt")


def test_patch_with_the_whole_record_sent_back_ignores_read_only_and_unknown_keys(api, model):
    tag = Tag.objects.create(name="style")
    record = api.get(f"/api/models/{SHA}").json()
    record.update(
        name="Edited",
        sha256="ef" * 32,
        size_bytes=1,
        created_at=2,
        tags=[{"id": tag.id, "name": "style"}],
        images_count=99,
        unexpected={"x": 1},
    )
    record["meta_json"]["images_count"] = 42

    response = patch(api, record)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["sha256"] == SHA
    assert body["name"] == "Edited"
    assert body["size_bytes"] == 1234 and body["created_at"] == 1_700_000_000_000
    assert body["meta_json"]["images_count"] == 0
    assert body["tags"] == [{"id": tag.id, "name": "style"}]
    assert "unexpected" not in body
    assert not CatalogModel.objects.filter(sha256="ef" * 32).exists()
    assert CatalogModel.objects.get(sha256=SHA).size_bytes == 1234


def test_patch_accepts_an_upper_case_sha256(api, model):
    response = patch(api, {"name": "Upper"}, sha=SHA.upper())

    assert response.status_code == 200
    assert CatalogModel.objects.get(sha256=SHA).name == "Upper"


def test_patch_trims_the_name_and_an_empty_name_falls_back_to_the_file_name(api, model):
    assert patch(api, {"name": "  spaced  "}).json()["name"] == "spaced"
    assert patch(api, {"name": ""}).json()["name"] == "original.safetensors"
    assert CatalogModel.objects.get(sha256=SHA).name == ""


@pytest.mark.parametrize("as_objects", [False, True])
def test_patch_tags_replaces_the_models_tags(api, model, as_objects):
    old, red, blue = (Tag.objects.create(name=name) for name in ("old", "red", "blue"))
    model.tags.set([old])
    refs = [{"id": red.id, "name": "red"}, {"id": blue.id}] if as_objects else [red.id, blue.id]

    response = patch(api, {"tags": refs})

    assert response.status_code == 200
    assert response.json()["tags"] == [
        {"id": blue.id, "name": "blue"},
        {"id": red.id, "name": "red"},
    ]
    assert set(model.tags.values_list("name", flat=True)) == {"red", "blue"}


def test_patch_tags_accepts_ids_as_digit_strings_and_repeats(api, model):
    red = Tag.objects.create(name="red")

    response = patch(api, {"tags": [str(red.id), red.id, {"id": red.id}]})

    assert response.status_code == 200
    assert response.json()["tags"] == [{"id": red.id, "name": "red"}]


def test_patch_with_an_empty_tag_list_removes_every_tag(api, model):
    model.tags.set([Tag.objects.create(name="red")])

    assert patch(api, {"tags": []}).json()["tags"] == []
    assert model.tags.count() == 0
    assert Tag.objects.filter(name="red").exists()


def test_patch_without_tags_keeps_the_tags(api, model):
    red = Tag.objects.create(name="red")
    model.tags.set([red])

    assert patch(api, {"name": "x"}).json()["tags"] == [{"id": red.id, "name": "red"}]


@pytest.mark.parametrize("unknown", [987654, 10**30])
def test_unknown_tag_id_is_a_400_naming_it_and_nothing_changes(api, model, unknown):
    red = Tag.objects.create(name="red")
    model.tags.set([red])
    before = snapshot()

    response = patch(
        api,
        {
            "name": "Changed",
            "type": "vae",
            "path": "/elsewhere",
            "meta_json": {"description": "changed", "other": 1},
            "tags": [red.id, unknown],
        },
    )

    assert response.status_code == 400
    assert str(unknown) in response.json()["error"]
    assert response.json()["code"] == "unknown_tag"
    assert snapshot() == before


@pytest.mark.parametrize(
    "tags",
    [
        "1,2",
        [True],
        ["abc"],
        ["\u00b2"],
        ["1.5"],
        [1.5],
        [None],
        [{"name": "red"}],
        [{"id": "x"}],
        [[1]],
        None,
    ],
)
def test_malformed_tags_are_a_400_and_nothing_changes(api, model, tags):
    before = snapshot()

    response = patch(api, {"name": "Changed", "tags": tags})

    assert response.status_code == 400, response.content
    assert "tags" in response.json()["fields"]
    assert snapshot() == before


def test_meta_json_object_updates_known_and_keeps_extra_keys(api, model):
    response = patch(
        api,
        {
            "meta_json": {
                "description": "new description",
                "prompts": {"positive": "p2", "negative": "n2"},
                "trigger_words": ["wxyz"],
                "rating": 4,
            }
        },
    )

    assert response.status_code == 200
    assert response.json()["meta_json"] == {
        "base_model": "SDXL",
        "trigger_words": ["wxyz"],
        "rating": 4,
        "description": "new description",
        "community_links": "https://example.org/o",
        "images_count": 0,
        "prompts": {"positive": "p2", "negative": "n2"},
    }
    # Kept across a later read, not only echoed.
    assert api.get(f"/api/models/{SHA}").json()["meta_json"]["trigger_words"] == ["wxyz"]


def test_meta_json_may_be_a_string_holding_a_json_object(api, model):
    meta = {"description": "from a string", "prompts": {"positive": "sp"}, "seed": 7}

    response = patch(api, {"meta_json": json.dumps(meta)})

    assert response.status_code == 200
    body = response.json()["meta_json"]
    assert body["description"] == "from a string"
    assert body["prompts"] == {"positive": "sp", "negative": "neg"}
    assert body["seed"] == 7


def test_meta_json_sent_back_unchanged_changes_nothing(api, model):
    before = snapshot()
    record = api.get(f"/api/models/{SHA}").json()

    assert patch(api, record).json() == record
    assert snapshot() == before


def test_meta_json_images_count_sent_is_ignored(api, model):
    response = patch(api, {"meta_json": {"images_count": 12}})

    assert response.json()["meta_json"]["images_count"] == 0
    assert "images_count" not in CatalogModel.objects.get(sha256=SHA).extra_meta


def test_meta_json_extra_key_set_to_null_is_removed(api, model):
    response = patch(api, {"meta_json": {"base_model": None}})

    assert "base_model" not in response.json()["meta_json"]


@pytest.mark.parametrize(
    "meta_json",
    [
        {"description": 5},
        {"description": None},
        {"community_links": ["a"]},
        {"prompts": "positive"},
        {"prompts": {"positive": 1}},
        {"prompts": {"negative": None}},
        ["not", "an", "object"],
        7,
        "not json",
        "[1, 2]",
        '{"x": NaN}',
        '{"x": Infinity}',
        {"description": "nul \u0000 byte"},
        {"extra": {"nested": "nul \u0000"}},
        {"bad\u0000key": 1},
    ],
)
def test_malformed_meta_json_is_a_400_and_nothing_changes(api, model, meta_json):
    before = snapshot()

    response = patch(api, {"name": "Changed", "meta_json": meta_json})

    assert response.status_code == 400, response.content
    assert "meta_json" in response.json()["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("field", ["name", "type", "path"])
@pytest.mark.parametrize("value", [None, 5, ["x"], {"a": 1}, "nul \u0000"])
def test_non_string_or_null_fields_are_a_400(api, model, field, value):
    before = snapshot()

    response = patch(api, {field: value})

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert snapshot() == before


def test_too_long_name_is_a_400(api, model):
    response = patch(api, {"name": "n" * 513})

    assert response.status_code == 400
    assert "name" in response.json()["fields"]


@pytest.mark.parametrize("body", [b"[1, 2]", b'"name"', b"{not json"])
def test_patch_body_that_is_not_an_object_is_a_400(api, model, body):
    response = api.generic("PATCH", f"/api/models/{SHA}", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_input", "malformed_request"}


def test_patch_records_strings_never_null(api, model):
    body = patch(api, {"name": "", "type": "", "path": "", "meta_json": {}}).json()

    assert body["name"] == "" and body["type"] == "" and body["path"] == ""
    assert all(
        isinstance(body["meta_json"][key], str) for key in ("description", "community_links")
    )
