"""Tag services: merging, and the database's case-insensitive uniqueness."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from migration_app.models import PendingModel
from tags.models import Tag
from tags.services import tags_merge

pytestmark = pytest.mark.django_db


def test_the_database_refuses_a_second_tag_differing_only_in_case():
    Tag.objects.create(name="anime")

    with pytest.raises(IntegrityError), transaction.atomic():
        Tag.objects.create(name="ANIME")

    assert list(Tag.objects.values_list("name", flat=True)) == ["anime"]


def test_merge_moves_catalog_and_pending_links_onto_the_target_and_deletes_sources(make_model):
    target, source, other = (Tag.objects.create(name=n) for n in ("anime", "animé", "manga"))
    only_source = make_model(tags=[source])
    both = make_model(tags=[target, source, other])
    untouched = make_model(tags=[other])
    pending = PendingModel.objects.create(path="/m/p.safetensors")
    pending.tags.set([source])

    removed = tags_merge(target=target, sources=[source, target])

    assert removed == 1
    assert not Tag.objects.filter(pk=source.pk).exists()
    assert list(only_source.tags.all()) == [target]
    assert sorted(both.tags.values_list("name", flat=True)) == ["anime", "manga"]
    assert list(untouched.tags.all()) == [other]
    assert list(pending.tags.all()) == [target]
    assert target.catalog_models.count() == 2


def test_merge_of_several_sources_links_each_model_once(make_model):
    target = Tag.objects.create(name="style")
    sources = [Tag.objects.create(name=f"style {n}") for n in range(3)]
    model = make_model(tags=sources)

    assert tags_merge(target=target, sources=sources) == 3
    assert list(model.tags.all()) == [target]
    assert Tag.objects.count() == 1


def test_merge_with_only_the_target_changes_nothing(make_model):
    target = Tag.objects.create(name="style")
    model = make_model(tags=[target])

    assert tags_merge(target=target, sources=[target]) == 0
    assert list(model.tags.all()) == [target]
