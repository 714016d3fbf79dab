"""The pending models admin: list, filters, and the Promote and Delete actions."""

from __future__ import annotations

import os

import pytest
from django.contrib.messages import get_messages
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
    assert any(m.startswith("Fresh: promoted to the catalog") for m in messages)
    assert any(m.startswith("Duplicate: its sha256") for m in messages)
    assert any(m.startswith("Gone: not promoted.") and "does not exist" in m for m in messages)
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
    assert messages_of(response) == ["Duplicate: conflicting pending model deleted."]
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
