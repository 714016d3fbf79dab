"""Curation in the catalog admin: user-field columns and filters, bulk actions, CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin import helpers
from django.contrib.messages import get_messages

from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/catalogmodel/"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)


def act(client, action: str, models, query: str = "", **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [m.pk for m in models], **extra}
    return client.post(CHANGELIST + query, data)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_changelist_has_user_field_columns_and_filters(admin_client, make_model):
    make_model(name="loved", favorite=True, rating=5)
    make_model(name="plain")

    response = admin_client.get(CHANGELIST + "?favorite__exact=1")

    assert response.status_code == 200
    assert [m.name for m in response.context["cl"].result_list] == ["loved"]
    assert {"favorite", "rating", "nsfw"} <= set(response.context["cl"].list_display)
    filters = [spec.title for spec in response.context["cl"].filter_specs]
    assert {"favorite", "rating", "NSFW"} <= set(filters)


def test_change_form_edits_the_user_fields(admin_client, make_model):
    model = make_model()
    page = admin_client.get(f"{CHANGELIST}{model.pk}/change/")
    assert 'name="rating"' in page.content.decode()


def test_add_tags_asks_first_then_adds_existing_and_new_tags(admin_client, make_model):
    anime = Tag.objects.create(name="anime")
    a, b = make_model(name="a"), make_model(name="b", tags=[anime])

    page = act(admin_client, "add_tags", [a, b])
    assert page.status_code == 200
    assert "2 selected models" in page.content.decode()
    assert a.tags.count() == 0

    done = act(
        admin_client,
        "add_tags",
        [a, b],
        apply="1",
        index="0",
        select_across="0",
        tags=[anime.pk],
        new_tags="Painterly, ANIME",
    )

    assert done.status_code == 302
    assert sorted(a.tags.values_list("name", flat=True)) == ["Painterly", "anime"]
    assert sorted(b.tags.values_list("name", flat=True)) == ["Painterly", "anime"]
    assert "2 of 2 selected model(s) changed" in messages_of(done)[0]


def test_add_tags_without_a_tag_shows_the_form_again(admin_client, make_model):
    a = make_model()
    page = act(admin_client, "add_tags", [a], apply="1", index="0", new_tags=" , ")
    assert page.status_code == 200
    assert "Choose at least one tag" in page.content.decode()


def test_remove_tags(admin_client, make_model):
    anime, style = Tag.objects.create(name="anime"), Tag.objects.create(name="style")
    a = make_model(tags=[anime, style])

    act(admin_client, "remove_tags", [a], apply="1", index="0", tags=[anime.pk])

    assert list(a.tags.values_list("name", flat=True)) == ["style"]


def test_actions_with_select_all_cover_every_model_the_filters_match(admin_client):
    CatalogModel.objects.bulk_create(
        [CatalogModel(sha256=f"{n:064x}", name=f"m {n:03d}", type="loras") for n in range(150)]
        + [CatalogModel(sha256=f"{n + 500:064x}", name="other", type="vae") for n in range(3)]
    )
    page_rows = list(CatalogModel.objects.filter(type="loras").order_by("name")[:100])

    # The form page posts the selection back as it came (select_across=1 and the filter).
    form = act(admin_client, "set_type", page_rows, query="?type__exact=loras", select_across="1")
    assert "150 selected models" in form.content.decode()
    done = act(
        admin_client,
        "set_type",
        page_rows,
        query="?type__exact=loras",
        select_across="1",
        apply="1",
        index="0",
        type=" Loras ",
    )

    assert done.status_code == 302
    assert CatalogModel.objects.filter(type="Loras").count() == 150
    assert CatalogModel.objects.filter(type="vae").count() == 3

    act(admin_client, "mark_nsfw", page_rows[:1], query="?type__exact=Loras", select_across="1")
    assert CatalogModel.objects.filter(nsfw=True).count() == 150


@pytest.mark.parametrize(
    "action, field, value",
    [
        ("mark_favorite", "favorite", True),
        ("mark_nsfw", "nsfw", True),
    ],
)
def test_mark_and_unmark_actions(admin_client, make_model, action, field, value):
    a, b = make_model(), make_model()

    response = act(admin_client, action, [a])
    assert response.status_code == 302
    assert "1 of 1 selected model(s) changed" in messages_of(response)[0]
    assert CatalogModel.objects.filter(**{field: value}).count() == 1

    act(admin_client, "un" + action, [a, b])
    assert CatalogModel.objects.filter(**{field: value}).count() == 0


def test_export_selected_as_csv(admin_client, make_model):
    a = make_model(name='Comma, "quoted"\nname')
    make_model(name="not selected")

    response = act(admin_client, "export_csv", [a])

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="models.csv"'
    body = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [row["name"] for row in rows] == ['Comma, "quoted"\nname']
