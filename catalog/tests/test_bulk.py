"""POST /api/models/bulk: tags and fields of many models in one transaction."""

from __future__ import annotations

import pytest

from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

CT = CatalogModel.tags.through


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def bulk(api, body: dict):
    return api.post("/api/models/bulk", body, format="json")


def ok(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


def tags_of(model: CatalogModel) -> list[str]:
    return sorted(model.tags.values_list("name", flat=True))


def state() -> list[tuple]:
    models = CatalogModel.objects.order_by("pk").values_list(
        "pk", "type", "favorite", "rating", "nsfw"
    )
    links = sorted(CT.objects.values_list("catalogmodel_id", "tag_id"))
    return [list(models), links, sorted(Tag.objects.values_list("name", flat=True))]


@pytest.fixture
def shelf(make_model):
    anime, style = Tag.objects.create(name="anime"), Tag.objects.create(name="style")
    return {
        "a": make_model(name="a", tags=[anime]),
        "b": make_model(name="b", tags=[anime, style]),
        "c": make_model(name="c", type="checkpoints"),
        "anime": anime,
        "style": style,
    }


def test_add_tags_by_id_and_by_name_creating_missing_names(api, shelf):
    a, b, anime = shelf["a"], shelf["b"], shelf["anime"]

    body = ok(bulk(api, {"sha256": [a.pk, b.pk], "add_tags": [anime.pk, "Painterly", "STYLE"]}))

    assert body == {"matched": 2, "changed": 2}
    assert tags_of(a) == ["Painterly", "anime", "style"]
    assert tags_of(b) == ["Painterly", "anime", "style"]
    assert Tag.objects.filter(name__iexact="style").count() == 1


def test_changed_counts_only_models_that_changed(api, shelf):
    a, b, style = shelf["a"], shelf["b"], shelf["style"]

    assert ok(bulk(api, {"sha256": [a.pk, b.pk], "add_tags": [style.pk]})) == {
        "matched": 2,
        "changed": 1,
    }
    assert ok(bulk(api, {"sha256": [a.pk, b.pk], "add_tags": [style.pk]})) == {
        "matched": 2,
        "changed": 0,
    }


def test_remove_tags_by_id_or_name_and_unknown_names_are_no_op(api, shelf):
    a, b = shelf["a"], shelf["b"]

    body = ok(bulk(api, {"sha256": [a.pk, b.pk], "remove_tags": ["ANIME", "never seen"]}))

    assert body == {"matched": 2, "changed": 2}
    assert tags_of(a) == [] and tags_of(b) == ["style"]
    assert not Tag.objects.filter(name="never seen").exists()


def test_set_tags_replaces_every_tag(api, shelf):
    a, b, c, style = shelf["a"], shelf["b"], shelf["c"], shelf["style"]
    c.tags.set([style])

    body = ok(bulk(api, {"sha256": [a.pk, b.pk, c.pk], "set_tags": [style.pk]}))

    assert body == {"matched": 3, "changed": 2}
    assert [tags_of(m) for m in (a, b, c)] == [["style"], ["style"], ["style"]]
    assert ok(bulk(api, {"sha256": [a.pk], "set_tags": []})) == {"matched": 1, "changed": 1}
    assert tags_of(a) == []


def test_set_fields(api, shelf):
    a, b = shelf["a"], shelf["b"]
    CatalogModel.objects.filter(pk=b.pk).update(favorite=True, rating=3)

    body = ok(
        bulk(
            api,
            {"sha256": [a.pk, b.pk], "set": {"favorite": True, "rating": 3, "type": " vae "}},
        )
    )

    assert body == {"matched": 2, "changed": 2}
    rows = CatalogModel.objects.filter(pk__in=[a.pk, b.pk]).values_list(
        "type", "favorite", "rating", "nsfw"
    )
    assert set(rows) == {("vae", True, 3, False)}


def test_selection_by_filter_uses_the_list_parameters(api, shelf, make_model):
    anime = shelf["anime"]
    make_model(name="zz painterly", type="loras")

    body = ok(bulk(api, {"filter": {"type": "loras", "tags": [anime.pk]}, "set": {"nsfw": True}}))
    assert body == {"matched": 2, "changed": 2}
    assert sorted(CatalogModel.objects.filter(nsfw=True).values_list("name", flat=True)) == [
        "a",
        "b",
    ]

    body = ok(bulk(api, {"filter": {"q": "painterly", "nsfw": False}, "add_tags": ["art"]}))
    assert body == {"matched": 1, "changed": 1}
    body = ok(bulk(api, {"filter": {}, "set": {"rating": 1}}))
    assert body == {"matched": 4, "changed": 4}


def test_the_selection_is_fixed_before_anything_changes(api, shelf):
    anime, style = shelf["anime"], shelf["style"]

    # The models chosen by tags=anime lose anime and gain style; the filter
    # must not be evaluated again between the two.
    body = ok(
        bulk(
            api,
            {
                "filter": {"tags": str(anime.pk), "favorite": False},
                "remove_tags": [anime.pk],
                "add_tags": ["fresh"],
                "set": {"favorite": True},
            },
        )
    )

    assert body == {"matched": 2, "changed": 2}
    assert tags_of(shelf["a"]) == ["fresh"]
    assert tags_of(shelf["b"]) == ["fresh", "style"]
    assert style.catalog_models.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"sha256": ["f" * 64], "add_tags": ["x"]}, "sha256"),
        ({"sha256": ["A_SHA"], "add_tags": [999999]}, "add_tags"),
        ({"sha256": ["A_SHA"], "set_tags": [999999, "new name"]}, "set_tags"),
        ({"sha256": ["A_SHA"], "add_tags": ["new name"], "remove_tags": [999999]}, "remove_tags"),
        ({"sha256": ["not a sha"], "add_tags": ["x"]}, "sha256"),
        ({"sha256": ["A_SHA"], "add_tags": [True]}, "add_tags"),
        ({"sha256": ["A_SHA"], "add_tags": [{"id": 1}]}, "add_tags"),
        ({"sha256": ["A_SHA"], "add_tags": ["x" * 65]}, None),
        ({"sha256": ["A_SHA"], "add_tags": ["   "]}, None),
        ({"sha256": ["A_SHA"], "set": {"rating": 6}}, "set"),
        ({"sha256": ["A_SHA"], "set": {"favorite": "yes"}}, "set"),
        ({"sha256": ["A_SHA"], "set": {"name": "x"}}, "set"),
        ({"sha256": ["A_SHA"]}, "non_field_errors"),
        ({"add_tags": ["x"]}, "non_field_errors"),
        ({"sha256": ["A_SHA"], "filter": {}, "add_tags": ["x"]}, "non_field_errors"),
        ({"sha256": ["A_SHA"], "set_tags": ["x"], "add_tags": ["y"]}, "non_field_errors"),
        ({"sha256": ["A_SHA"], "add_tags": ["anime"], "remove_tags": ["ANIME"]}, None),
        ({"filter": {"tpye": "loras"}, "set": {"nsfw": True}}, "tpye"),
        ({"filter": {"favorite": "maybe"}, "set": {"nsfw": True}}, "favorite"),
        ({"filter": {"tags": [{"id": 1}]}, "set": {"nsfw": True}}, "tags"),
        ({"filter": {"limit": 1}, "set": {"nsfw": True}}, "limit"),
        ({"filter": "type=loras", "set": {"nsfw": True}}, "filter"),
        ({"sha256": ["A_SHA"], "add_tag": ["x"]}, "add_tag"),
    ],
)
def test_bad_input_is_a_400_naming_it_and_changes_nothing(api, shelf, body, field):
    body = {
        key: [shelf["a"].pk if v == "A_SHA" else v for v in value] if key == "sha256" else value
        for key, value in body.items()
    }
    before = state()

    response = bulk(api, body)

    assert response.status_code == 400, response.content
    assert response.json()["error"]
    if field:
        assert field in response.json()["fields"], response.json()
    if "999999" in str(body) or "f" * 64 in str(body):
        assert ("999999" if "999999" in str(body) else "f" * 64) in response.json()["error"]
    assert state() == before


def test_more_than_10000_sha256_is_a_400(api, shelf):
    response = bulk(api, {"sha256": [f"{n:064x}" for n in range(10_001)], "add_tags": ["x"]})

    assert response.status_code == 400
    assert "sha256" in response.json()["fields"]


def test_bulk_edit_of_10000_models_takes_as_many_queries_as_of_ten(
    api, django_assert_max_num_queries
):
    tag = Tag.objects.create(name="existing")
    CatalogModel.objects.bulk_create(
        [CatalogModel(sha256=f"{n:064x}", name=f"m {n}", type="loras") for n in range(10_000)],
        batch_size=2000,
    )
    shas = [f"{n:064x}" for n in range(10_000)]

    counted = {}
    for size in (10, 10_000):
        body = {
            "sha256": shas[:size],
            "add_tags": [tag.pk, f"new {size}"],
            "set": {"favorite": True, "rating": 4},
        }
        with django_assert_max_num_queries(30) as captured:
            assert ok(bulk(api, body)) == {"matched": size, "changed": size}
        counted[size] = len(captured)
        with django_assert_max_num_queries(30) as captured:
            assert ok(bulk(api, {"filter": {"type": "loras"}, "remove_tags": [tag.pk]})) == {
                "matched": 10_000,
                "changed": size,
            }

    assert counted[10] == counted[10_000]
    assert CT.objects.filter(tag__name="new 10000").count() == 10_000
    assert CT.objects.filter(tag=tag).count() == 0
    assert CatalogModel.objects.filter(favorite=True, rating=4).count() == 10_000
