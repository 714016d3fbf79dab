"""The catalog routes through HTTP: /api/hello, /api/models[/get_types|/{sha256}]."""

from __future__ import annotations

import pytest

from catalog.models import CatalogModel
from config.env import STANDARD_MODEL_TYPES
from tags.models import Tag

pytestmark = pytest.mark.django_db

SIMPLE_KEYS = {"sha256", "name", "type", "path", "size_bytes", "created_at", "images_count", "tags"}
SIMPLE_KEYS |= {"architecture", "base_model", "kind"}
FULL_KEYS = {
    "sha256",
    "name",
    "type",
    "path",
    "size_bytes",
    "created_at",
    "meta_json",
    "tags",
    "missing",
    "missing_since",
    "locations",
    "favorite",
    "rating",
    "nsfw",
    "file",
}
SHA = "ab" * 32


@pytest.fixture
def api(api):
    # A 500 must show up as a status code the test can assert, not as an exception.
    api.raise_request_exception = False
    return api


def listed(api, query: str) -> list[str]:
    response = api.get(f"/api/models?{query}")
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["models"]]


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["error"], str) and body["error"]
    if code:
        assert body["code"] == code
    return body


# --- /api/hello ---------------------------------------------------------------


def test_hello_answers_ok(api):
    response = api.get("/api/hello")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- /api/models/get_types ----------------------------------------------------


def test_get_types_lists_comfyui_standard_names_when_no_roots_are_configured(api):
    types = api.get("/api/models/get_types").json()["types"]

    assert types == sorted(STANDARD_MODEL_TYPES)
    assert {"checkpoints", "loras", "vae", "embeddings"} <= set(types)


def test_get_types_lists_configured_types_sorted(api, settings):
    settings.MODEL_ROOTS = {"vae": ["/m/vae"], "checkpoints": ["/m/ckpt"], "loras": ["/m/l"]}

    assert api.get("/api/models/get_types").json() == {"types": ["checkpoints", "loras", "vae"]}


def test_get_types_adds_types_present_in_the_catalog_without_duplicates(api, settings, make_model):
    settings.MODEL_ROOTS = {"loras": ["/m/loras"], "vae": ["/m/vae"]}
    make_model(type="loras")
    make_model(type="loras")
    make_model(type="animatediff")
    make_model(type="")

    assert api.get("/api/models/get_types").json() == {"types": ["animatediff", "loras", "vae"]}


def test_get_types_never_lists_others_whatever_its_case(api, settings, make_model):
    settings.MODEL_ROOTS = {"loras": ["/m/loras"]}
    make_model(type="others")
    make_model(type="Others")

    assert api.get("/api/models/get_types").json() == {"types": ["loras"]}


# --- GET /api/models: type and shape -------------------------------------------


@pytest.mark.parametrize("query", ["", "type=", "type=%20%20", "q=x"])
def test_list_without_type_is_a_400(api, query):
    assert_error(api.get(f"/api/models?{query}"), 400, "type_required")


def test_list_returns_models_of_the_type_in_the_simple_form(api, make_model):
    tag = Tag.objects.create(name="style")
    model = make_model(
        name="Detailer", type="loras", path="/m/loras/detailer.safetensors", tags=[tag]
    )
    make_model(type="checkpoints")

    response = api.get("/api/models?type=loras")

    assert response.status_code == 200
    assert response.json() == {
        "models": [
            {
                "sha256": model.sha256,
                "name": "Detailer",
                "type": "loras",
                "path": "/m/loras/detailer.safetensors",
                "size_bytes": model.size_bytes,
                "created_at": model.created_at,
                "images_count": 0,
                "tags": [{"id": tag.id, "name": "style"}],
                "architecture": "",
                "base_model": "",
                "kind": "",
                "favorite": False,
                "rating": 0,
                "nsfw": False,
                "missing": False,
                "missing_since": None,
            }
        ]
    }


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/m/loras/film grain.safetensors", "film grain.safetensors"),
        ("C:\\ComfyUI\\models\\loras\\windows.safetensors", "windows.safetensors"),
        ("D:/mixed\\slashes/mixed.ckpt", "mixed.ckpt"),
    ],
)
def test_list_and_detail_fall_back_to_the_file_name_when_name_is_empty(
    api, make_model, path, expected
):
    model = make_model(name="", path=path)

    assert listed(api, "type=loras") == [expected]
    assert api.get(f"/api/models/{model.sha256}").json()["name"] == expected


def test_list_counts_sample_images(api, make_model):
    from imaging.models import SampleImage

    model = make_model()
    make_model()
    # bulk_create: rows only, no rendering; the count is what is checked here.
    SampleImage.objects.bulk_create(
        [SampleImage(model=model, seq=seq, original=f"images/x{seq}.png") for seq in range(3)]
    )

    counts = {
        item["sha256"]: item["images_count"]
        for item in api.get("/api/models?type=loras").json()["models"]
    }

    assert counts[model.sha256] == 3
    assert sorted(counts.values()) == [0, 3]


def test_list_is_empty_for_a_type_without_models(api, make_model):
    make_model(type="loras")

    assert api.get("/api/models?type=vae").json() == {"models": []}


@pytest.mark.parametrize("others", ["others", "Others", "OTHERS"])
def test_others_lists_models_with_an_empty_or_unlisted_type(api, settings, make_model, others):
    settings.MODEL_ROOTS = {"loras": ["/m/loras"]}
    make_model(name="listed", type="loras")
    make_model(name="untyped", type="")
    make_model(name="weird", type="strange_kind")

    # strange_kind is present in the catalog, so get_types lists it: not "others".
    assert listed(api, f"type={others}") == ["untyped"]


def test_others_includes_models_typed_others(api, make_model):
    make_model(name="typed others", type="others")
    make_model(name="a lora", type="loras")

    assert listed(api, "type=others") == ["typed others"]


def test_unknown_extra_query_parameters_are_ignored(api, make_model):
    make_model(name="one")

    assert listed(api, "type=loras&rev=1700000000&foo=bar") == ["one"]


# --- GET /api/models: filters ---------------------------------------------------


def test_q_matches_name_or_path_without_regard_to_case(api, make_model):
    make_model(name="Anime Lines", path="/m/a.safetensors")
    make_model(name="other", path="/m/ANIMEstyle/b.safetensors")
    make_model(name="unrelated", path="/m/c.safetensors")

    assert listed(api, "type=loras&q=anime") == ["Anime Lines", "other"]
    assert listed(api, "type=loras&q=LINES") == ["Anime Lines"]


def test_tags_filter_keeps_models_having_all_given_tags(api, make_model):
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    make_model(name="both", tags=[red, blue])
    make_model(name="red only", tags=[red])
    make_model(name="none")

    assert listed(api, f"type=loras&tags={red.id},{blue.id}") == ["both"]
    assert listed(api, f"type=loras&tags={red.id}") == ["both", "red only"]
    # A trailing comma from a client joining ids is tolerated.
    assert listed(api, f"type=loras&tags={blue.id},") == ["both"]


def test_exclude_tags_drops_models_having_any_given_tag(api, make_model):
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    make_model(name="both", tags=[red, blue])
    make_model(name="red only", tags=[red])
    make_model(name="blue only", tags=[blue])
    make_model(name="none")

    assert listed(api, f"type=loras&exclude_tags={blue.id}") == ["none", "red only"]
    assert listed(api, f"type=loras&exclude_tags={red.id},{blue.id}") == ["none"]
    assert listed(api, f"type=loras&tags={red.id}&exclude_tags={blue.id}") == ["red only"]


def test_filtering_keeps_every_tag_of_the_listed_models(api, make_model):
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    make_model(name="both", tags=[red, blue])

    item = api.get(f"/api/models?type=loras&tags={red.id}").json()["models"][0]

    assert item["tags"] == [{"id": blue.id, "name": "blue"}, {"id": red.id, "name": "red"}]


@pytest.mark.parametrize("param", ["tags", "exclude_tags"])
@pytest.mark.parametrize(
    "value", ["abc", "1.5", "1,x", "-", "99999999999999999999999", "%C2%B2", "1;2"]
)
def test_malformed_tag_ids_are_a_400(api, make_model, param, value):
    make_model()

    body = assert_error(api.get(f"/api/models?type=loras&{param}={value}"), 400)

    assert param in body["fields"]


@pytest.mark.parametrize(
    "ordering, expected",
    [
        ("name", ["alpha", "beta", "gamma"]),
        ("-name", ["gamma", "beta", "alpha"]),
        ("size_bytes", ["beta", "gamma", "alpha"]),
        ("-size_bytes", ["alpha", "gamma", "beta"]),
        ("created_at", ["gamma", "alpha", "beta"]),
        ("-created_at", ["beta", "alpha", "gamma"]),
        ("path", ["gamma", "beta", "alpha"]),
    ],
)
def test_ordering_sorts_by_the_given_field(api, make_model, ordering, expected):
    make_model(name="alpha", size_bytes=300, created_at=20, path="/c")
    make_model(name="beta", size_bytes=100, created_at=30, path="/b")
    make_model(name="gamma", size_bytes=200, created_at=10, path="/a")

    assert listed(api, f"type=loras&ordering={ordering}") == expected


def test_ordering_accepts_several_fields(api, make_model):
    make_model(name="b", size_bytes=1)
    make_model(name="a", size_bytes=2)
    make_model(name="c", size_bytes=1)

    assert listed(api, "type=loras&ordering=size_bytes,-name") == ["c", "b", "a"]


def test_ordering_by_images_count(api, make_model):
    from imaging.models import SampleImage

    make_model(name="none")
    busy = make_model(name="busy")
    SampleImage.objects.bulk_create(
        [SampleImage(model=busy, seq=seq, original=f"images/b{seq}.png") for seq in range(2)]
    )

    assert listed(api, "type=loras&ordering=-images_count") == ["busy", "none"]
    assert listed(api, "type=loras&ordering=-images_count&limit=1") == ["busy"]


def test_models_with_equal_sort_values_are_ordered_by_sha256(api, make_model):
    # Stable order is what makes limit/offset pages neither repeat nor skip models.
    for number in (3, 1, 2):
        make_model(f"{number:064x}", name=f"m{number}", size_bytes=5)

    response = api.get("/api/models?type=loras&ordering=size_bytes")

    assert [item["name"] for item in response.json()["models"]] == ["m1", "m2", "m3"]


def test_default_order_is_by_name(api, make_model):
    for name in ("b", "c", "a"):
        make_model(name=name)

    assert listed(api, "type=loras") == ["a", "b", "c"]


@pytest.mark.parametrize("ordering", ["bogus", "description", "-", "name;drop"])
def test_invalid_ordering_is_a_400(api, make_model, ordering):
    make_model()

    body = assert_error(api.get(f"/api/models?type=loras&ordering={ordering}"), 400)

    assert "ordering" in body["fields"]


def test_limit_and_offset_page_through_with_a_total(api, make_model):
    for name in "abcde":
        make_model(name=name)

    first = api.get("/api/models?type=loras&limit=2").json()
    second = api.get("/api/models?type=loras&limit=2&offset=2").json()
    tail = api.get("/api/models?type=loras&offset=4").json()
    beyond = api.get("/api/models?type=loras&limit=2&offset=10").json()

    assert [m["name"] for m in first["models"]] == ["a", "b"] and first["total"] == 5
    assert [m["name"] for m in second["models"]] == ["c", "d"] and second["total"] == 5
    assert [m["name"] for m in tail["models"]] == ["e"] and tail["total"] == 5
    assert beyond == {"models": [], "total": 5}


def test_total_counts_filtered_models(api, make_model):
    red = Tag.objects.create(name="red")
    for name in "abc":
        make_model(name=name, tags=[red])
    make_model(name="untagged")

    body = api.get(f"/api/models?type=loras&tags={red.id}&limit=1").json()

    assert body["total"] == 3 and len(body["models"]) == 1


@pytest.mark.parametrize("query", ["offset=0", "limit=0", "limit=10&offset=0"])
def test_total_is_present_whenever_limit_or_offset_is_given(api, make_model, query):
    make_model()

    body = api.get(f"/api/models?type=loras&{query}").json()

    assert body["total"] == 1


def test_total_is_absent_without_limit_or_offset(api, make_model):
    make_model()

    assert "total" not in api.get("/api/models?type=loras").json()


@pytest.mark.parametrize("param", ["limit", "offset"])
@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "%C2%B2", "1e3", "9999999999999"])
def test_malformed_limit_or_offset_is_a_400(api, make_model, param, value):
    make_model()

    body = assert_error(api.get(f"/api/models?type=loras&{param}={value}"), 400)

    assert param in body["fields"]


def test_list_uses_the_same_number_of_queries_for_5_and_50_models_with_tags(
    api, make_model, django_assert_num_queries
):
    tags = [Tag.objects.create(name=f"tag {number}") for number in range(6)]

    def add_models(count: int) -> None:
        for number in range(count):
            make_model(tags=tags[number % 3 : number % 3 + 3])

    def queries_for(query: str, expected_models: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            body = api.get(f"/api/models?{query}").json()
        assert len(body["models"]) == expected_models
        assert all(len(item["tags"]) == 3 for item in body["models"])
        return len(captured)

    add_models(5)
    small = {
        query: queries_for(query, 5)
        for query in ("type=loras", "type=loras&q=model", "type=loras&limit=100&ordering=-name")
    }
    add_models(45)
    for query, count in small.items():
        with django_assert_num_queries(count):
            api.get(f"/api/models?{query}")
    assert queries_for("type=loras", 50) == small["type=loras"] <= 3


# --- GET /api/models/{sha256} ----------------------------------------------------


def test_detail_returns_the_full_record(api, make_model):
    style, anime = Tag.objects.create(name="style"), Tag.objects.create(name="anime")
    model = make_model(
        SHA,
        name="Detailer",
        type="loras",
        path="/m/loras/d.safetensors",
        size_bytes=151_000_000,
        created_at=1_700_000_000_000,
        description="adds detail",
        community_links="https://example.org/d",
        prompt_positive="detailed",
        prompt_negative="blurry",
        tags=[style, anime],
    )

    response = api.get(f"/api/models/{model.sha256}")

    assert response.status_code == 200
    assert response.json() == {
        "sha256": SHA,
        "name": "Detailer",
        "type": "loras",
        "path": "/m/loras/d.safetensors",
        "size_bytes": 151_000_000,
        "created_at": 1_700_000_000_000,
        "meta_json": {
            "description": "adds detail",
            "community_links": "https://example.org/d",
            "images_count": 0,
            "prompts": {"positive": "detailed", "negative": "blurry"},
        },
        "tags": [{"id": anime.id, "name": "anime"}, {"id": style.id, "name": "style"}],
        # Not read from its header yet: what the path and the sha256 already say.
        "file": {
            "format": "safetensors",
            "architecture": "unknown",
            "kind": "unknown",
            "base_model": "",
            "dtype": "",
            "tensor_count": 0,
            "parameters": 0,
            "hashes": {"sha256": SHA, "autov2": SHA[:10]},
            "trigger_words": [],
            "training": {},
            "modelspec": {},
            "header_error": "",
        },
        "missing": False,
        "missing_since": None,
        "locations": [],
        "favorite": False,
        "rating": 0,
        "nsfw": False,
    }


def test_detail_of_a_bare_model_has_every_known_meta_key_and_no_nulls(api, make_model):
    model = CatalogModel.objects.create(sha256=SHA)

    body = api.get(f"/api/models/{model.sha256}").json()

    assert set(body) == FULL_KEYS
    assert body["meta_json"] == {
        "description": "",
        "community_links": "",
        "images_count": 0,
        "prompts": {"positive": "", "negative": ""},
    }
    assert body["name"] == "" and body["type"] == "" and body["path"] == ""
    assert body["size_bytes"] == 0 and body["created_at"] == 0


def test_detail_accepts_an_upper_case_sha256(api, make_model):
    make_model(SHA)

    response = api.get(f"/api/models/{SHA.upper()}")

    assert response.status_code == 200
    assert response.json()["sha256"] == SHA


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 63, "a" * 65, "a b"])
def test_detail_with_a_malformed_sha256_is_a_400(api, bad):
    assert_error(api.get(f"/api/models/{bad}"), 400, "invalid_sha256")
    assert_error(api.patch(f"/api/models/{bad}", {"name": "x"}, format="json"), 400)


def test_detail_of_an_unknown_sha256_is_a_404(api):
    assert_error(api.get(f"/api/models/{SHA}"), 404, "model_not_found")
    assert_error(api.patch(f"/api/models/{SHA}", {"name": "x"}, format="json"), 404)


def test_detail_rejects_other_methods_with_a_json_405(api, make_model):
    make_model(SHA)

    assert_error(api.post(f"/api/models/{SHA}", {}, format="json"), 405, "method_not_allowed")
    assert_error(api.put(f"/api/models/{SHA}", {}, format="json"), 405, "method_not_allowed")
    assert CatalogModel.objects.filter(sha256=SHA).exists()


def test_detail_counts_sample_images(api, make_model):
    from imaging.models import SampleImage

    model = make_model(SHA)
    SampleImage.objects.bulk_create(
        [SampleImage(model=model, seq=seq, original=f"images/d{seq}.png") for seq in range(2)]
    )

    assert api.get(f"/api/models/{SHA}").json()["meta_json"]["images_count"] == 2


def test_tags_of_a_model_are_sorted_by_name_without_regard_to_case(api, make_model):
    tags = [Tag.objects.create(name=name) for name in ("Zeta", "alpha", "Beta")]
    model = make_model(tags=tags)
    expected = ["alpha", "Beta", "Zeta"]

    listed_tags = api.get("/api/models?type=loras").json()["models"][0]["tags"]
    detail_tags = api.get(f"/api/models/{model.sha256}").json()["tags"]

    assert [tag["name"] for tag in listed_tags] == expected
    assert [tag["name"] for tag in detail_tags] == expected
