"""The tag admin: model counts, search, the merge action, and the add form's rules."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages

from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/tags/tag/"


@pytest.fixture
def admin_user(django_user_model):
    # Replaces pytest-django's: no password to hash (a second per test); admin_client
    # logs in with force_login.
    return django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)


def listed(response) -> list[tuple[str, int]]:
    assert response.status_code == 200
    return [(tag.name, tag.model_count) for tag in response.context["cl"].result_list]


def merge(admin_client, tags: list[Tag], **extra):
    data = {"action": "merge_tags", helpers.ACTION_CHECKBOX_NAME: [t.pk for t in tags], **extra}
    return admin_client.post(CHANGELIST, data, follow="apply" in extra)


def test_changelist_lists_tags_with_their_catalog_model_counts(admin_client, make_model):
    anime, style, unused = (Tag.objects.create(name=n) for n in ("anime", "style", "unused"))
    make_model(tags=[anime, style])
    make_model(tags=[anime])

    response = admin_client.get(CHANGELIST)

    assert listed(response) == [("anime", 2), ("style", 1), ("unused", 0)]


def test_changelist_sorts_by_model_count(admin_client, make_model):
    rare, common = Tag.objects.create(name="rare"), Tag.objects.create(name="common")
    make_model(tags=[rare, common])
    make_model(tags=[common])

    # Column 2 of list_display (model_count), descending.
    assert listed(admin_client.get(CHANGELIST, {"o": "-2"})) == [("common", 2), ("rare", 1)]
    assert listed(admin_client.get(CHANGELIST, {"o": "2"})) == [("rare", 1), ("common", 2)]


def test_changelist_searches_by_name(admin_client):
    Tag.objects.create(name="Anime")
    Tag.objects.create(name="landscape")

    assert listed(admin_client.get(CHANGELIST, {"q": "anim"})) == [("Anime", 0)]


def test_merge_action_first_asks_which_tag_to_keep_and_changes_nothing(admin_client, make_model):
    oldest, newer = Tag.objects.create(name="anime"), Tag.objects.create(name="Anime-style")
    make_model(tags=[newer])

    response = merge(admin_client, [newer, oldest])

    assert response.status_code == 200
    html = response.content.decode()
    assert "anime (0 catalog models and 0 pending models)" in html
    assert "Anime-style (1 catalog model and 0 pending models)" in html
    assert response.context["form"].initial["target"] == oldest
    # The page posts the selection back to the same action with apply=1.
    assert 'name="action" value="merge_tags"' in html and 'name="apply" value="1"' in html
    assert Tag.objects.count() == 2


def test_merge_action_moves_links_onto_the_chosen_tag_and_deletes_the_others(
    admin_client, make_model
):
    keep, merged, other = (Tag.objects.create(name=n) for n in ("anime", "animé", "manga"))
    only_merged = make_model(tags=[merged])
    both = make_model(tags=[keep, merged, other])
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([merged])

    response = merge(admin_client, [keep, merged], apply="1", target=str(keep.pk))

    assert response.status_code == 200
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["anime", "manga"]
    assert list(only_merged.tags.all()) == [keep]
    assert sorted(both.tags.values_list("name", flat=True)) == ["anime", "manga"]
    assert list(pending.tags.all()) == [keep]
    message = [str(m) for m in get_messages(response.wsgi_request)][-1]
    assert "Merged 1 tag(s)" in message and "“anime”" in message
    assert "2 catalog models and 1 pending model now carry" in message


def test_merge_page_counts_pending_models_too(admin_client, make_model):
    tags = [Tag.objects.create(name=n) for n in ("anime", "animé")]
    make_model(tags=tags)
    make_model(tags=[tags[0]])
    for number in range(3):
        pending = PendingModel.objects.create(path=f"/m/p{number}.safetensors")
        pending.tags.set(tags if number == 0 else [tags[1]])

    html = merge(admin_client, tags).content.decode()

    # Each relation counted on its own: a join of both would multiply them.
    assert "anime (2 catalog models and 1 pending model)" in html
    assert "animé (1 catalog model and 3 pending models)" in html


def test_merge_action_can_keep_a_newer_tag(admin_client, make_model):
    oldest, newer = Tag.objects.create(name="anime"), Tag.objects.create(name="Anime style")
    model = make_model(tags=[oldest])

    merge(admin_client, [oldest, newer], apply="1", target=str(newer.pk))

    assert list(Tag.objects.all()) == [newer]
    assert list(model.tags.all()) == [newer]


def test_merge_action_with_a_target_outside_the_selection_changes_nothing(admin_client):
    first, second, outsider = (Tag.objects.create(name=n) for n in ("a", "b", "c"))

    response = merge(admin_client, [first, second], apply="1", target=str(outsider.pk))

    assert response.status_code == 200
    assert "target" in response.context["form"].errors
    assert Tag.objects.count() == 3


def test_merge_action_needs_two_tags(admin_client):
    only = Tag.objects.create(name="alone")

    response = admin_client.post(
        CHANGELIST,
        {"action": "merge_tags", helpers.ACTION_CHECKBOX_NAME: [only.pk]},
        follow=True,
    )

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Select at least two tags to merge." in messages
    assert Tag.objects.count() == 1


def test_adding_a_tag_trims_its_name(admin_client):
    response = admin_client.post(f"{CHANGELIST}add/", {"name": "  new   tag  "})

    assert response.status_code == 302
    assert list(Tag.objects.values_list("name", flat=True)) == ["new tag"]


@pytest.mark.parametrize("name", ["ANIME", "   ", "x" * 65])
def test_adding_a_duplicate_blank_or_long_tag_is_refused(admin_client, name):
    Tag.objects.create(name="anime")

    response = admin_client.post(f"{CHANGELIST}add/", {"name": name})

    assert response.status_code == 200
    assert "name" in response.context["adminform"].form.errors
    assert list(Tag.objects.values_list("name", flat=True)) == ["anime"]


def test_renaming_a_tag_to_another_case_of_itself_is_allowed(admin_client):
    tag = Tag.objects.create(name="anime")

    response = admin_client.post(f"{CHANGELIST}{tag.pk}/change/", {"name": "Anime"})

    assert response.status_code == 302
    tag.refresh_from_db()
    assert tag.name == "Anime"
