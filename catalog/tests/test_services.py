"""Catalog services called directly: what the API cannot show deterministically."""

from __future__ import annotations

import pytest

from catalog.models import CatalogModel
from catalog.services import catalog_model_update

pytestmark = pytest.mark.django_db


def test_update_keeps_fields_another_writer_changed_since_the_model_was_read(make_model):
    model = make_model(name="before", description="old")
    stale = CatalogModel.objects.get(pk=model.pk)
    # Another request (or the admin) writes between this request's read and write.
    CatalogModel.objects.filter(pk=model.pk).update(description="written meanwhile")

    catalog_model_update(model=stale, data={"name": "renamed"})

    stored = CatalogModel.objects.get(pk=model.pk)
    assert stored.name == "renamed"
    assert stored.description == "written meanwhile"


def test_update_of_meta_json_keeps_a_name_changed_meanwhile(make_model):
    model = make_model(name="before")
    stale = CatalogModel.objects.get(pk=model.pk)
    CatalogModel.objects.filter(pk=model.pk).update(name="renamed meanwhile")

    catalog_model_update(model=stale, data={"meta_json": {"description": "new"}})

    stored = CatalogModel.objects.get(pk=model.pk)
    assert (stored.name, stored.description) == ("renamed meanwhile", "new")
