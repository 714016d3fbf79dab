"""q of GET /api/models: every term in the name, path, description, a trigger word or a tag."""

from __future__ import annotations

import pytest
from django.db import connection

from catalog.models import CatalogModel
from catalog.search import DOC_TABLE, MAX_TERMS, ensure_search_index, search_terms
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def found(api, q: str, **params) -> list[str]:
    response = api.get("/api/models", {"type": "loras", "q": q, **params})
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["models"]]


@pytest.fixture
def library(make_model):
    painterly = Tag.objects.create(name="Painterly")
    make_model(
        name="Zkz Style",
        path="/m/loras/styles/zkz_style_v2.safetensors",
        description="Soft brush strokes, muted colours.",
        file_info={"trigger_words": ["zkz style", "oil canvas"]},
        tags=[painterly],
    )
    make_model(
        name="SDXL Base Detailer",
        path="/m/loras/sdxl_base_detail.safetensors",
        description="Adds fine detail.",
    )
    make_model(name="Ärger Übel", path="/m/loras/umlaut.safetensors")
    make_model(name="100% cotton_shirt", path="/m/loras/percent.safetensors")
    make_model(name='it\'s "quoted" \\ back', path="/m/loras/quotes.safetensors")


@pytest.mark.parametrize(
    "q, expected",
    [
        ("zkz", ["Zkz Style"]),  # name
        ("styles/zkz", ["Zkz Style"]),  # path, across a folder separator
        ("brush", ["Zkz Style"]),  # description
        ("canvas", ["Zkz Style"]),  # trigger word
        ("painterly", ["Zkz Style"]),  # tag name
        ("painterly brush zkz_style_v2 oil", ["Zkz Style"]),  # four fields, one model
        ("PAINTERLY detail", []),  # every term must match
        ("detail", ["SDXL Base Detailer"]),
        ("xl_base", ["SDXL Base Detailer"]),  # inside a word, the way q always matched
        ('"zkz style"', ["Zkz Style"]),  # a phrase
        ('"style zkz"', []),
        ("ärger", ["Ärger Übel"]),  # case folded beyond ASCII
        ("ÜBEL", ["Ärger Übel"]),
    ],
)
def test_terms_match_any_field_without_regard_to_case(api, library, q, expected):
    assert sorted(found(api, q)) == sorted(expected)


@pytest.mark.parametrize(
    "q, expected",
    [
        ("100%", ["100% cotton_shirt"]),
        ("%", ["100% cotton_shirt"]),
        ("_", ["100% cotton_shirt"]),
        ("n_s", ["100% cotton_shirt"]),
        ("%cotton", []),
        ("it's", ['it\'s "quoted" \\ back']),
        ("'", ['it\'s "quoted" \\ back']),
        ('"quoted"', ['it\'s "quoted" \\ back']),
        ('"\\"quoted', ['it\'s "quoted" \\ back']),  # the phrase \ then a word
        ("\\", ['it\'s "quoted" \\ back']),
        ('"', ['it\'s "quoted" \\ back']),
        ("'; DROP TABLE catalog_catalogmodel; --", []),
    ],
)
def test_wildcards_quotes_and_backslashes_are_plain_characters(api, make_model, q, expected):
    make_model(name="100% cotton_shirt", path="/m/loras/percent.safetensors")
    make_model(name='it\'s "quoted" \\ back', path="/m/loras/quotes.safetensors")
    make_model(name="plain", path="/m/loras/plain.safetensors")

    assert found(api, q) == expected


def test_one_and_two_character_terms_match_too(api, library):
    assert found(api, "zk") == ["Zkz Style"]
    assert found(api, "V2 s") == ["Zkz Style"]
    assert found(api, "Är") == ["Ärger Übel"]
    # Under three characters SQLite compares with LIKE, which folds ASCII letters only.
    assert found(api, "är") == ([] if connection.vendor == "sqlite" else ["Ärger Übel"])


def test_search_keeps_the_ordering_and_pages_with_a_total(api, make_model):
    for n in range(7):
        make_model(name=f"style {n}", size_bytes=100 - n)
    make_model(name="other")

    assert found(api, "style", ordering="size_bytes") == [f"style {n}" for n in range(6, -1, -1)]
    response = api.get("/api/models?type=loras&q=style&limit=3&offset=3&ordering=name")
    assert response.json()["total"] == 7
    assert [m["name"] for m in response.json()["models"]] == ["style 3", "style 4", "style 5"]


def test_search_follows_every_kind_of_write(api, make_model):
    tag = Tag.objects.create(name="grain")
    model = make_model(name="before", tags=[tag])
    assert found(api, "grain") == ["before"]

    api.patch(f"/api/models/{model.sha256}", {"name": "after"}, format="json")
    assert found(api, "before") == [] and found(api, "after") == ["after"]

    api.patch(f"/api/models/{model.sha256}", {"meta_json": {"description": "misty"}}, format="json")
    assert found(api, "misty") == ["after"]

    CatalogModel.objects.filter(pk=model.pk).update(file_info={"trigger_words": ["fog lamp"]})
    assert found(api, '"fog lamp"') == ["after"]

    tag.name = "noise"
    tag.save()
    assert found(api, "grain") == [] and found(api, "noise") == ["after"]

    CatalogModel.objects.bulk_create([CatalogModel(sha256="e" * 64, name="bulk", type="loras")])
    assert found(api, "bulk") == ["bulk"]

    model.delete()
    assert found(api, "after") == []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {DOC_TABLE}")
        assert cursor.fetchone()[0] == 1


def test_too_many_or_too_long_terms_are_a_400(api, library):
    many = " ".join(f"w{n}" for n in range(MAX_TERMS + 1))
    for q in (many, "x" * 201):
        response = api.get("/api/models", {"type": "loras", "q": q})
        assert response.status_code == 400
        assert response.json()["fields"].keys() == {"q"}


def test_blank_q_lists_everything(api, library):
    assert len(found(api, "   ")) == 5


def test_search_terms_split_words_and_quoted_phrases():
    assert search_terms('  zkz  "oil   canvas"  5" tall "" Zkz ') == [
        "zkz",
        "oil canvas",
        '5"',
        "tall",
    ]


def test_search_query_count_does_not_grow_with_the_catalog(
    api, make_model, django_assert_num_queries
):
    tag = Tag.objects.create(name="style")
    for size in (2, 20):
        for n in range(size):
            make_model(name=f"style {size} {n}", tags=[tag])
        # the tags holding a term, the models, their tags
        with django_assert_num_queries(3):
            found(api, "style model")


def test_ensure_rebuilds_a_stale_index(api, make_model):
    make_model(name="alpha")
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {DOC_TABLE}")
    assert found(api, "alpha") == []

    assert ensure_search_index(CatalogModel, connection) is True
    assert found(api, "alpha") == ["alpha"]
    assert ensure_search_index(CatalogModel, connection) is False


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite table rebuilds drop triggers")
def test_ensure_puts_back_triggers_a_table_rebuild_dropped(api, make_model):
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER catalog_catalogmodel_search_ai")
    make_model(name="while broken")

    assert ensure_search_index(CatalogModel, connection) is True
    make_model(name="after repair")
    assert sorted(found(api, "while broken")) == ["while broken"]
    assert found(api, "repair") == ["after repair"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL plan")
def test_a_term_naming_tags_is_a_join_not_a_subquery_run_per_row(make_model):
    """Inside an OR, PostgreSQL may scan a large subquery once per row (minutes at
    100,000 models); each term must be one IN, which it plans as a semi-join."""
    from django.http import QueryDict

    from catalog.selectors import models_selected

    make_model(name="a", tags=[Tag.objects.create(name="bench tag")])

    plan = models_selected(params=QueryDict("type=loras&q=bench model")).explain()

    assert "SubPlan" not in plan
