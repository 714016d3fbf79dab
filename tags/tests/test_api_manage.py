"""Tag management through HTTP: rename (PATCH), delete, merge; staff-only in token mode."""

from __future__ import annotations

import pytest
from django.db import connection
from rest_framework.test import APIClient

from config.tokens import api_token_issue
from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def tag_names() -> list[str]:
    return sorted(Tag.objects.values_list("name", flat=True))


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["error"]
    return body


def rename(api, tag: Tag | int | str, body: dict):
    tag_id = tag.pk if isinstance(tag, Tag) else tag
    return api.patch(f"/api/tags/{tag_id}", body, format="json")


# --- rename -------------------------------------------------------------------------


def test_rename_changes_the_name_everywhere_the_tag_is_used(api, make_model):
    tag = Tag.objects.create(name="anmie")
    model = make_model(tags=[tag])

    response = rename(api, tag, {"name": "  anime   style "})

    assert response.status_code == 200, response.content
    assert response.json() == {"id": tag.pk, "name": "anime style"}
    assert [t["name"] for t in api.get(f"/api/models/{model.sha256}").json()["tags"]] == [
        "anime style"
    ]


def test_rename_to_another_case_of_itself_is_a_plain_rename(api):
    tag = Tag.objects.create(name="anime")

    response = rename(api, tag, {"name": "Anime"})

    assert response.json() == {"id": tag.pk, "name": "Anime"}


def test_rename_onto_a_name_another_tag_has_in_any_case_is_a_409_and_changes_nothing(api):
    anime = Tag.objects.create(name="Anime")
    typo = Tag.objects.create(name="anmie")

    body = assert_error(rename(api, typo, {"name": "ANIME"}), 409, "tag_exists")

    assert str(anime.pk) in body["error"] and "merge" in body["error"]
    assert tag_names() == ["Anime", "anmie"]


def test_rename_with_merge_moves_every_use_onto_the_existing_tag(api, make_model):
    anime = Tag.objects.create(name="anime")
    typo = Tag.objects.create(name="anmie")
    style = Tag.objects.create(name="style")
    on_typo = make_model(tags=[typo, style])
    on_both = make_model(tags=[anime, typo])
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([typo])

    response = rename(api, typo, {"name": "Anime", "merge": True})

    # The tag that stays takes the spelling asked for.
    assert response.json() == {"id": anime.pk, "name": "Anime"}
    assert not Tag.objects.filter(pk=typo.pk).exists()
    assert sorted(on_typo.tags.values_list("name", flat=True)) == ["Anime", "style"]
    assert list(on_both.tags.values_list("name", flat=True)) == ["Anime"]
    assert list(pending.tags.all()) == [anime]


def test_names_differing_only_by_accents_are_different_tags(api):
    cafe = Tag.objects.create(name="cafe")
    other = Tag.objects.create(name="bistro")

    response = rename(api, other, {"name": "café"})

    assert response.status_code == 200
    assert tag_names() == ["cafe", "café"]
    assert cafe.pk != response.json()["id"]


def test_a_non_ascii_case_clash_follows_the_databases_lower(api):
    """PostgreSQL folds É to é; SQLite's LOWER folds ASCII letters only (README)."""
    Tag.objects.create(name="café")
    other = Tag.objects.create(name="bistro")

    response = rename(api, other, {"name": "CAFÉ"})

    if connection.vendor == "postgresql":
        assert_error(response, 409, "tag_exists")
    else:
        assert response.status_code == 200
        assert tag_names() == ["CAFÉ", "café"]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"name": "   "}, "tag_name_blank"),
        ({"name": "x" * 65}, "tag_name_too_long"),
        ({"name": 12}, "invalid_input"),
        ({"name": "a\x00b"}, "invalid_input"),
        ({}, "invalid_input"),
        ({"name": "ok", "merge": "perhaps"}, "invalid_input"),
    ],
)
def test_rename_with_bad_input_is_a_400_and_changes_nothing(api, body, code):
    tag = Tag.objects.create(name="anime")

    assert_error(rename(api, tag, body), 400, code)

    assert tag_names() == ["anime"]


@pytest.mark.parametrize("tag_id", ["999999", "0", "abc", "-1", "1.5", "9" * 30])
def test_rename_or_delete_of_an_unknown_tag_is_a_json_404(api, tag_id):
    Tag.objects.create(name="anime")

    assert_error(rename(api, tag_id, {"name": "x"}), 404, "tag_not_found")
    assert_error(api.delete(f"/api/tags/{tag_id}"), 404, "tag_not_found")
    assert tag_names() == ["anime"]


# --- delete -------------------------------------------------------------------------


def test_delete_removes_the_tag_from_every_catalog_and_pending_model(api, make_model):
    gone, kept = Tag.objects.create(name="gone"), Tag.objects.create(name="kept")
    model = make_model(tags=[gone, kept])
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([gone])

    response = api.delete(f"/api/tags/{gone.pk}")

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert tag_names() == ["kept"]
    assert list(model.tags.all()) == [kept]
    assert list(pending.tags.all()) == []
    assert api.get(f"/api/models/{model.sha256}").status_code == 200


# --- merge --------------------------------------------------------------------------


def merge(api, body: dict):
    return api.post("/api/tags/merge", body, format="json")


def test_merge_moves_every_link_into_the_target_and_deletes_the_others(api, make_model):
    anime, a1, a2 = (Tag.objects.create(name=n) for n in ("anime", "Anime art", "animé"))
    both = make_model(tags=[anime, a1])
    source_only = make_model(tags=[a1, a2])
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([a2])

    response = merge(api, {"from": [a1.pk, a2.pk, anime.pk], "into": anime.pk})

    assert response.status_code == 200, response.content
    assert response.json() == {"tag": {"id": anime.pk, "name": "anime"}, "merged": 2}
    assert tag_names() == ["anime"]
    assert list(both.tags.all()) == [anime]
    assert list(source_only.tags.all()) == [anime]
    assert list(pending.tags.all()) == [anime]


def test_merge_of_a_tag_used_on_many_models_keeps_each_link_once(api, make_model):
    target, source = Tag.objects.create(name="style"), Tag.objects.create(name="styel")
    models = [make_model(tags=[source] if n % 2 else [source, target]) for n in range(40)]

    merge(api, {"from": [source.pk], "into": target.pk})

    assert target.catalog_models.count() == 40
    assert all(list(model.tags.all()) == [target] for model in models)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"from": [999999], "into": "TARGET"}, "from"),
        ({"from": ["SOURCE"], "into": 999999}, "into"),
        ({"from": [], "into": "TARGET"}, "from"),
        ({"from": "SOURCE", "into": "TARGET"}, "from"),
        ({"into": "TARGET"}, "from"),
        ({"from": ["SOURCE"]}, "into"),
        ({"from": [True], "into": "TARGET"}, "from"),
    ],
)
def test_merge_with_bad_or_unknown_ids_is_a_400_naming_them_and_changes_nothing(
    api, make_model, body, field
):
    target, source = Tag.objects.create(name="style"), Tag.objects.create(name="styel")
    model = make_model(tags=[source])
    ids = {"TARGET": target.pk, "SOURCE": source.pk}
    body = {
        key: [ids.get(v, v) for v in value] if isinstance(value, list) else ids.get(value, value)
        for key, value in body.items()
    }

    response = merge(api, body)

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]
    if "999999" in str(body):
        assert "999999" in response.json()["error"]
    assert tag_names() == ["styel", "style"]
    assert list(model.tags.all()) == [source]


# --- token mode ---------------------------------------------------------------------


def token_client(username: str, *, staff: bool) -> APIClient:
    token, _ = api_token_issue(username=username, create_user=True, staff=staff)
    return APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")


def test_token_mode_keeps_tag_rename_delete_and_merge_for_staff(settings):
    settings.API_AUTH = "token"
    anime, typo = Tag.objects.create(name="anime"), Tag.objects.create(name="anmie")
    alice = token_client("alice", staff=False)

    for response in (
        alice.patch(f"/api/tags/{typo.pk}", {"name": "x"}, format="json"),
        alice.delete(f"/api/tags/{typo.pk}"),
        alice.post("/api/tags/merge", {"from": [typo.pk], "into": anime.pk}, format="json"),
    ):
        assert_error(response, 403, "staff_required")
    assert tag_names() == ["anime", "anmie"]

    curator = token_client("curator", staff=True)
    response = curator.post("/api/tags/merge", {"from": [typo.pk], "into": anime.pk}, format="json")
    assert response.status_code == 200
    assert tag_names() == ["anime"]
