"""PreparedQuery: an ORM query compiled once answers like the ORM for every value."""

import pytest
from django.db import transaction
from django.db.models import Exists, OuterRef

from catalog.models import CatalogModel, ModelLocation
from config.prepared import INTEGER_MARK, PreparedQuery
from migration_app.models import PendingModel
from tags.models import Tag

pytestmark = pytest.mark.django_db


def test_answers_like_the_orm_for_each_value_with_annotations():
    tag = Tag.objects.create(name="style")
    tagged = PendingModel.objects.create(path="/m/a.safetensors", name="a", type="loras")
    tagged.tags.add(tag)
    bare = PendingModel.objects.create(path="/m/b.safetensors", name="b", type="loras")
    query = PreparedQuery(
        lambda pk: (
            PendingModel.objects.select_for_update()
            .annotate(
                has_tags=Exists(
                    PendingModel.tags.through.objects.filter(pendingmodel=OuterRef("pk"))
                )
            )
            .filter(pk=pk)[:1]
        ),
        mark=INTEGER_MARK,
    )
    with transaction.atomic():
        first, second = query.first(tagged.pk), query.first(bare.pk)
        assert query.first(bare.pk + 1000) is None
    assert (first.pk, first.name, bool(first.has_tags)) == (tagged.pk, "a", True)
    assert (second.pk, second.path, bool(second.has_tags)) == (bare.pk, "/m/b.safetensors", False)


def test_row_answers_the_columns_or_none():
    model = CatalogModel.objects.create(sha256="a" * 64, name="m", type="loras", path="/m/a")
    ModelLocation.objects.create(model=model, path="/m/a", size_bytes=1)
    query = PreparedQuery(
        lambda path: ModelLocation.objects.filter(path=path).values_list("path", "size_bytes")[:1]
    )
    assert query.row("/m/a") == ("/m/a", 1)
    assert query.row("/nowhere") is None


def test_a_query_using_its_value_twice_is_refused():
    query = PreparedQuery(lambda name: PendingModel.objects.filter(name=name, path=name))
    with pytest.raises(ValueError, match="exactly once"):
        query.row("x")
