"""The pending models admin: list, filters, and the Promote and Delete actions."""

from __future__ import annotations

import os

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import CatalogModel
from imaging.tests.pictures import picture
from migration_app.models import PendingModel
from migration_app.tests.conftest import sha256_of
from tags.models import Tag

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:migration_app_pendingmodel_changelist")


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("curator", "c@example.com", "pw")
    client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_changelist_shows_size_hash_state_and_thumbnail(staff, make_pending):
    make_pending(
        "big.safetensors",
        b"x" * 2048,
        name="Big one",
        images=[("big_preview.png", picture())],
    )
    response = staff.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Big one" in html and "2.0\xa0KB" in html
    assert "/api/images/pending/big_preview.png?quality=low" in html
    assert "icon-no.svg" in html  # not hashed yet


def test_changelist_filters_by_type_and_tag(staff, make_pending):
    tag = Tag.objects.create(name="anime")
    make_pending("a.safetensors", name="Tagged lora", tags=[tag])
    make_pending("b.safetensors", name="Plain checkpoint", type="checkpoints")
    html = staff.get(CHANGELIST, {"tags__id__exact": tag.pk}).content.decode()
    assert "Tagged lora" in html and "Plain checkpoint" not in html
    html = staff.get(CHANGELIST, {"type": "checkpoints"}).content.decode()
    assert "Plain checkpoint" in html and "Tagged lora" not in html


def test_promote_action_asks_for_a_strategy_first(staff, make_pending):
    pending = make_pending("a.safetensors", name="Ask first")
    response = staff.post(CHANGELIST, {"action": "promote", "_selected_action": [pending.pk]})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="strategy"' in html and "Ask first" in html
    assert PendingModel.objects.filter(pk=pending.pk).exists()


def test_promote_action_reports_each_outcome(staff, make_pending, make_model):
    fresh = make_pending("fresh.safetensors", b"fresh", name="Fresh")
    make_model(sha256_of(b"dup"), path="/catalog/dup.safetensors")
    duplicate = make_pending("dup.safetensors", b"dup", name="Duplicate")
    vanished = make_pending("gone.safetensors", b"gone", name="Gone")
    os.remove(vanished.path)
    response = staff.post(
        CHANGELIST,
        {
            "action": "promote",
            "_selected_action": [fresh.pk, duplicate.pk, vanished.pk],
            "apply": "1",
            "strategy": "",
        },
        follow=True,
    )
    messages = messages_of(response)
    assert f"Promoted “Fresh” to the catalog (sha256 {sha256_of(b'fresh')[:12]}…)." in messages
    assert any(
        m.startswith("Not promoted: “Duplicate” holds the same file as the catalog model")
        for m in messages
    )
    assert any(m.startswith("Not promoted: “Gone”.") and "does not exist" in m for m in messages)
    assert CatalogModel.objects.filter(sha256=sha256_of(b"fresh")).exists()
    assert set(PendingModel.objects.values_list("pk", flat=True)) == {duplicate.pk, vanished.pk}


def test_promote_action_applies_the_chosen_strategy(staff, make_pending, make_model):
    make_model(sha256_of(b"dup"), path="/catalog/dup.safetensors")
    duplicate = make_pending("dup.safetensors", b"dup", name="Duplicate")
    response = staff.post(
        CHANGELIST,
        {
            "action": "promote",
            "_selected_action": [duplicate.pk],
            "apply": "1",
            "strategy": "delete",
        },
        follow=True,
    )
    assert messages_of(response) == [
        "Deleted the pending model “Duplicate”: the catalog already holds its file "
        f"(sha256 {sha256_of(b'dup')[:12]}…)."
    ]
    assert not PendingModel.objects.exists()


def test_delete_action_confirms_then_deletes(staff, make_pending):
    pending = make_pending("a.safetensors")
    selection = {"action": "delete_pending", "_selected_action": [pending.pk]}
    assert staff.post(CHANGELIST, selection).status_code == 200
    assert PendingModel.objects.exists()
    response = staff.post(CHANGELIST, selection | {"apply": "1"}, follow=True)
    assert messages_of(response)[0].startswith("Deleted 1 pending model(s)")
    assert not PendingModel.objects.exists()
    assert os.path.exists(pending.path)


def test_builtin_bulk_delete_is_replaced(staff, make_pending):
    make_pending()
    html = staff.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in html
    assert 'value="delete_pending"' in html


def test_change_page_shows_staged_images(staff, make_pending):
    pending = make_pending(images=[("look.png", picture())])
    url = reverse("admin:migration_app_pendingmodel_change", args=[pending.pk])
    html = staff.get(url).content.decode()
    assert "/api/images/pending/look.png?quality=low" in html


# --- first-hour polish: names as written, merges, long paths, many rows -----------


def promote(staff, pendings, strategy: str = ""):
    data = {
        "action": "promote",
        "_selected_action": [p.pk for p in pendings],
        "apply": "1",
        "strategy": strategy,
    }
    return staff.post(CHANGELIST, data, follow=True)


def test_promotion_messages_keep_file_names_as_written(staff, make_pending):
    # The admin capitalises a message's first letter: the name must not come first.
    pending = make_pending("lora_v2.safetensors", b"lowercase", name="")

    response = promote(staff, [pending])

    html = response.content.decode()
    assert "Promoted “lora_v2.safetensors” to the catalog" in html
    assert "Lora_v2" not in html


def test_a_merge_says_merged_into_the_existing_model(staff, make_pending, make_model):
    make_model(sha256_of(b"same bytes"), name="Catalog copy", path="/catalog/copy.safetensors")
    pending = make_pending("copy.safetensors", b"same bytes", name="Found again")

    messages = messages_of(promote(staff, [pending], "merge"))

    assert messages == [
        "Merged “Found again” into the catalog model “Catalog copy”, which held the same file "
        f"(sha256 {sha256_of(b'same bytes')[:12]}…): its values filled that model's empty "
        "fields, its tags and images were added."
    ]


def test_an_override_says_merged_into_and_that_values_were_replaced(
    staff, make_pending, make_model
):
    make_model(sha256_of(b"same bytes"), name="Catalog copy", path="/catalog/copy.safetensors")
    pending = make_pending("copy.safetensors", b"same bytes", name="Found again")

    messages = messages_of(promote(staff, [pending], "override"))

    assert messages == [
        "Merged “Found again” into the catalog model that held the same file "
        f"(sha256 {sha256_of(b'same bytes')[:12]}…): its values replaced that model's, "
        "its tags and images were added."
    ]
    assert CatalogModel.objects.get().name == "Found again"


def test_many_outcomes_are_summed_up_per_kind(staff, make_pending, make_model):
    make_model(sha256_of(b"dup"), path="/catalog/dup.safetensors")
    fresh = [make_pending(f"f{n}.safetensors", f"fresh {n}".encode()) for n in range(11)]
    duplicate = make_pending("dup.safetensors", b"dup", name="Duplicate")

    messages = messages_of(promote(staff, [*fresh, duplicate]))

    assert messages[0] == (
        "Promoted 11 pending models to the catalog "
        "(“f0.safetensors”, “f1.safetensors”, “f2.safetensors” and 8 more)."
    )
    assert messages[1].startswith("Not promoted, their files are already in the catalog: 1 (")
    assert len(messages) == 2


def test_there_is_no_add_button_or_add_page(staff):
    html = staff.get(CHANGELIST).content.decode()

    assert "Add pending model" not in html
    assert staff.get(reverse("admin:migration_app_pendingmodel_add")).status_code == 403


LONG_PATH = "/mnt/library/" + "/".join(f"folder_{n:03d}" for n in range(16)) + "/x.safetensors"


def test_a_long_path_is_cut_in_the_middle_with_the_whole_on_hover(staff, make_pending):
    assert len(LONG_PATH) >= 200
    make_pending(path=LONG_PATH, name="deep")

    html = staff.get(CHANGELIST).content.decode()

    # The folder, cut in the middle (its root and its last folders), on one line.
    assert (
        f'<span class="one-line" title="{LONG_PATH}">/mnt/libra…folder_014/folder_015</span>'
        in html
    )
    assert f">{LONG_PATH}<" not in html


def test_the_conflict_filter_separates_duplicates_new_and_unhashed(staff, make_pending, make_model):
    make_model(sha256_of(b"dup"))
    make_pending("dup.safetensors", b"dup", name="Known bytes", sha256=sha256_of(b"dup"))
    make_pending("new.safetensors", b"new", name="New bytes", sha256=sha256_of(b"new"))
    make_pending("raw.safetensors", b"raw", name="Unread")

    def names(value: str) -> set[str]:
        response = staff.get(CHANGELIST, {"conflict": value})
        return {p.name for p in response.context["cl"].result_list}

    assert names("yes") == {"Known bytes"}
    assert names("no") == {"New bytes"}
    assert names("unhashed") == {"Unread"}


def test_the_list_pages_and_searches_by_path(staff):
    PendingModel.objects.bulk_create(
        PendingModel(path=f"/library/{'a' if n % 2 else 'b'}/m{n:04d}.safetensors", type="loras")
        for n in range(250)
    )

    first = staff.get(CHANGELIST)
    third = staff.get(CHANGELIST, {"p": "3"})
    found = staff.get(CHANGELIST, {"q": "/a/m01"})

    assert len(first.context["cl"].result_list) == 100
    assert first.context["cl"].result_count == 250
    assert len(third.context["cl"].result_list) == 50
    assert {p.path for p in found.context["cl"].result_list} == {
        f"/library/a/m{n:04d}.safetensors" for n in range(101, 200, 2)
    }


def test_select_all_confirms_with_a_count_and_acts_on_the_filtered_rows(staff):
    PendingModel.objects.bulk_create(
        PendingModel(path=f"/library/m{n:04d}.safetensors", type="loras" if n < 150 else "vae")
        for n in range(160)
    )
    loras = f"{CHANGELIST}?type=loras"
    selection = {
        "action": "delete_pending",
        "select_across": "1",
        "_selected_action": [PendingModel.objects.filter(type="loras").first().pk],
    }

    page = staff.post(loras, selection | {"index": "0"})

    html = page.content.decode()
    assert "150 pending models" in html and "and 50 more" in html
    assert html.count('name="_selected_action"') == 1
    assert PendingModel.objects.count() == 160

    response = staff.post(loras, selection | {"apply": "1"}, follow=True)

    assert messages_of(response)[0].startswith("Deleted 150 pending model(s)")
    assert set(PendingModel.objects.values_list("type", flat=True)) == {"vae"}


def test_the_change_page_shows_dates_not_epoch_milliseconds(staff, make_pending, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    pending = make_pending(created_at=1_700_000_000_000)  # 2023-11-14 22:13:20 UTC

    html = staff.get(reverse("admin:migration_app_pendingmodel_change", args=[pending.pk]))
    html = html.content.decode()

    assert "1700000000000" not in html
    assert "Nov. 14, 2023, 11:13 p.m." in html  # Berlin is UTC+1 in November


def test_the_list_costs_the_same_queries_for_ten_rows_or_a_thousand(
    staff, make_model, django_assert_max_num_queries
):
    def rows(start: int, count: int) -> None:
        PendingModel.objects.bulk_create(
            PendingModel(
                path=f"/library/{'deep/' * 40}m{n:05d}.safetensors",
                type=("loras", "vae")[n % 2],
                sha256=f"{n:064x}" if n % 3 else "",
            )
            for n in range(start, start + count)
        )

    make_model(f"{3:064x}")
    rows(0, 10)
    queries = {}
    for query in ("", "?conflict=yes", "?type=vae&q=m0000"):
        with CaptureQueriesContext(connection) as context:
            assert staff.get(CHANGELIST + query).status_code == 200
        queries[query] = len(context.captured_queries)
    rows(10, 990)

    for query, count in queries.items():
        with django_assert_max_num_queries(count):
            assert staff.get(CHANGELIST + query).status_code == 200
