"""Stage 2 through the API: POST /api/migration/import_models and import_a_model."""

from __future__ import annotations

import os

import pytest
from django.conf import settings

from catalog import services as catalog_services
from catalog.models import CatalogModel, FileHash
from imaging.tests.pictures import picture
from migration_app.models import PendingImage, PendingModel
from migration_app.tests.conftest import media_files, sha256_of
from tags.models import Tag

pytestmark = pytest.mark.django_db

PROMOTE = "/api/migration/import_models"
PROMOTE_ONE = "/api/migration/import_a_model"
RED = picture((30, 20), color=(255, 0, 0))
BLUE = picture((30, 20), color=(0, 0, 255))
GREEN = picture((30, 20), color=(0, 255, 0))


def promote(api, ids, strategy=None, **extra):
    return api.post(PROMOTE, {"id": ids, "conflict_strategy": strategy, **extra}, format="json")


def originals(model) -> list[bytes]:
    contents = []
    for image in model.images.order_by("seq"):
        with image.original.open("rb") as handle:
            contents.append(handle.read())
    return contents


def empty_body(total: int, **groups) -> dict:
    body = {"total": total, "success": [], "conflict": [], "ignored": [], "deleted": []}
    return body | {"failed": []} | groups


@pytest.fixture
def conflict(make_pending, make_model):
    """A pending file whose bytes are already in the catalog as another model."""
    style, portrait = Tag.objects.create(name="style"), Tag.objects.create(name="portrait")
    existing = make_model(
        sha256_of(b"same bytes"),
        name="Catalog name",
        type="loras",
        path="/models/loras/old.safetensors",
        description="",
        community_links="https://example.com/catalog",
        tags=[style],
    )
    pending = make_pending(
        "new.safetensors",
        b"same bytes",
        name="Pending name",
        type="checkpoints",
        description="pending description",
        community_links="",
        prompt_positive="pos",
        images=[("p1.png", RED), ("p2.png", BLUE)],
        tags=[style, portrait],
    )
    return existing, pending


def test_promotion_creates_the_catalog_model_and_removes_the_pending_row(
    api, make_pending, django_capture_on_commit_callbacks
):
    tag = Tag.objects.create(name="anime")
    pending = make_pending(
        "dream.safetensors",
        b"dream weights",
        name="Dream",
        type="checkpoints",
        created_at=1_690_000_000_000,
        description="d",
        community_links="https://civitai.com/models/7",
        prompt_positive="p",
        prompt_negative="n",
        images=[("a.png", RED), ("b.jpg", picture(image_format="JPEG"))],
        tags=[tag],
    )
    staged_files = {image.original.name for image in pending.images.all()}
    with django_capture_on_commit_callbacks(execute=True):
        response = promote(api, [pending.pk])
    assert response.status_code == 207
    assert response.json() == empty_body(1, success=[pending.pk])
    model = CatalogModel.objects.get(sha256=sha256_of(b"dream weights"))
    assert (model.name, model.type, model.path) == ("Dream", "checkpoints", pending.path)
    assert (model.size_bytes, model.created_at) == (len(b"dream weights"), 1_690_000_000_000)
    assert (model.description, model.community_links) == ("d", "https://civitai.com/models/7")
    assert (model.prompt_positive, model.prompt_negative) == ("p", "n")
    assert list(model.tags.values_list("name", flat=True)) == ["anime"]
    assert list(model.images.values_list("seq", flat=True)) == [0, 1]
    assert originals(model)[0] == RED
    assert not PendingModel.objects.exists() and not PendingImage.objects.exists()
    assert not staged_files & media_files(settings.MEDIA_ROOT)


def test_conflict_without_strategy_reports_and_changes_nothing(api, conflict):
    existing, pending = conflict
    for strategy in (None, "null"):
        response = promote(api, [pending.pk], strategy)
        assert response.status_code == 207
        assert response.json() == empty_body(
            1,
            conflict=[
                {
                    "pending": {"id": pending.pk, "path": pending.path},
                    "existing": {"id": existing.sha256, "path": "/models/loras/old.safetensors"},
                    "sha256": existing.sha256,
                }
            ],
        )
    existing.refresh_from_db()
    assert existing.name == "Catalog name" and existing.description == ""
    assert PendingModel.objects.get(pk=pending.pk).images.count() == 2
    assert existing.images.count() == 0


def test_missing_strategy_key_means_null(api, conflict):
    _, pending = conflict
    response = api.post(PROMOTE, {"id": [pending.pk]}, format="json")
    assert len(response.json()["conflict"]) == 1


def test_override_replaces_fields_adds_tags_and_appends_images(api, conflict, add_sample_image):
    existing, pending = conflict
    add_sample_image(existing, GREEN)
    response = promote(api, [pending.pk], "override")
    assert response.json() == empty_body(1, success=[pending.pk])
    existing.refresh_from_db()
    assert (existing.name, existing.type, existing.path) == (
        "Pending name",
        "checkpoints",
        pending.path,
    )
    assert existing.description == "pending description"
    # An empty pending value never blanks a field the catalog has.
    assert existing.community_links == "https://example.com/catalog"
    assert set(existing.tags.values_list("name", flat=True)) == {"style", "portrait"}
    assert originals(existing) == [GREEN, RED, BLUE]
    assert not PendingModel.objects.filter(pk=pending.pk).exists()


def test_merge_fills_only_empty_fields(api, conflict):
    existing, pending = conflict
    response = promote(api, [pending.pk], "merge")
    assert response.json()["success"] == [pending.pk]
    existing.refresh_from_db()
    # The path is the first location present: the old one is not on disk, so the
    # merged copy's path; the old one is kept as a missing location.
    assert (existing.name, existing.type, existing.path) == ("Catalog name", "loras", pending.path)
    assert dict(existing.locations.values_list("path", "missing")) == {
        "/models/loras/old.safetensors": True,
        pending.path: False,
    }
    assert existing.description == "pending description"
    assert existing.prompt_positive == "pos"
    assert set(existing.tags.values_list("name", flat=True)) == {"style", "portrait"}
    assert list(existing.images.values_list("seq", flat=True)) == [0, 1]
    assert not PendingModel.objects.filter(pk=pending.pk).exists()


def test_ignore_leaves_both_models_alone(api, conflict):
    existing, pending = conflict
    response = promote(api, [pending.pk], "ignore")
    assert response.json() == empty_body(1, ignored=[pending.pk])
    existing.refresh_from_db()
    assert existing.name == "Catalog name" and existing.images.count() == 0
    assert PendingModel.objects.get(pk=pending.pk).images.count() == 2


def test_delete_removes_the_pending_row_and_its_images(
    api, conflict, django_capture_on_commit_callbacks
):
    existing, pending = conflict
    files = {image.original.name for image in pending.images.all()}
    with django_capture_on_commit_callbacks(execute=True):
        response = promote(api, [pending.pk], "delete")
    assert response.json() == empty_body(1, deleted=[pending.pk])
    assert not PendingModel.objects.exists() and not PendingImage.objects.exists()
    assert not files & media_files(settings.MEDIA_ROOT)
    assert os.path.exists(pending.path)  # the model file itself is never touched
    existing.refresh_from_db()
    assert existing.name == "Catalog name"


def test_strategy_only_applies_to_items_that_conflict(api, conflict, make_pending):
    _, pending = conflict
    fresh = make_pending("fresh.safetensors", b"fresh bytes")
    response = promote(api, [fresh.pk, pending.pk], "ignore")
    assert response.json() == empty_body(2, success=[fresh.pk], ignored=[pending.pk])
    assert CatalogModel.objects.filter(sha256=sha256_of(b"fresh bytes")).exists()


def test_each_item_is_its_own_transaction(api, make_pending):
    first = make_pending("first.safetensors", b"first")
    vanished = make_pending("gone.safetensors", b"gone")
    os.remove(vanished.path)
    third = make_pending("third.safetensors", b"third")
    response = promote(api, [first.pk, vanished.pk, 999_999, third.pk])
    body = response.json()
    assert body["total"] == 4
    assert body["success"] == [first.pk, third.pk]
    assert [item["id"] for item in body["failed"]] == [vanished.pk, 999_999]
    assert "does not exist" in body["failed"][0]["error"]
    assert vanished.path in body["failed"][0]["error"]
    assert body["failed"][1] == {"id": 999_999, "error": "No pending model has id 999999."}
    assert PendingModel.objects.filter(pk=vanished.pk).exists()
    assert CatalogModel.objects.count() == 2


def test_repeated_ids_are_promoted_once_in_order(api, make_pending):
    a = make_pending("a.safetensors", b"a")
    b = make_pending("b.safetensors", b"b")
    response = promote(api, [b.pk, a.pk, b.pk])
    assert response.json() == empty_body(2, success=[b.pk, a.pk])


def test_two_pending_files_with_equal_bytes_conflict_with_each_other(api, make_pending):
    a = make_pending("a.safetensors", b"twin")
    b = make_pending("b.safetensors", b"twin")
    body = promote(api, [a.pk, b.pk]).json()
    assert body["success"] == [a.pk]
    assert body["conflict"][0]["pending"]["id"] == b.pk


def test_a_file_hashed_before_is_not_read_again(api, make_pending, monkeypatch):
    pending = make_pending("cached.safetensors", b"cached bytes")
    catalog_services.file_sha256_cached(path=pending.path)
    reads = []
    real = catalog_services.file_digests
    monkeypatch.setattr(
        catalog_services,
        "file_digests",
        lambda path, **kwargs: reads.append(path) or real(path, **kwargs),
    )
    assert promote(api, [pending.pk]).json()["success"] == [pending.pk]
    assert reads == []
    assert FileHash.objects.get(path=pending.path).sha256 == sha256_of(b"cached bytes")


@pytest.mark.parametrize(
    "body",
    [
        {"id": [], "conflict_strategy": None},
        {"id": 3, "conflict_strategy": None},
        {"id": "1,2", "conflict_strategy": None},
        {"conflict_strategy": None},
        {"id": ["x"], "conflict_strategy": None},
        {"id": [True], "conflict_strategy": None},
        {"id": "PENDING", "conflict_strategy": "replace"},
        {"id": "PENDING", "conflict_strategy": 5},
    ],
)
def test_bad_input_is_a_400_and_changes_nothing(api, make_pending, body):
    pending = make_pending()
    body = {**body, "id": [pending.pk]} if body.get("id") == "PENDING" else body
    response = api.post(PROMOTE, body, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"error", "code"}
    assert PendingModel.objects.filter(pk=pending.pk).exists()
    assert not CatalogModel.objects.exists()


def test_import_a_model_answers_the_single_outcome_as_deprecated(api, make_pending):
    pending = make_pending("one.safetensors", b"one")
    response = api.post(PROMOTE_ONE, {"id": pending.pk}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "id": pending.pk,
        "sha256": sha256_of(b"one"),
        "deprecated": True,
    }
    assert response["Deprecation"] == "true"
    assert PROMOTE in response["Link"]


def test_import_a_model_reports_a_conflict(api, conflict):
    existing, pending = conflict
    body = api.post(PROMOTE_ONE, {"id": pending.pk, "conflict_strategy": "null"}).json()
    assert body == {
        "status": "conflict",
        "id": pending.pk,
        "sha256": existing.sha256,
        "pending": {"id": pending.pk, "path": pending.path},
        "existing": {"id": existing.sha256, "path": existing.path},
        "deprecated": True,
    }


def test_import_a_model_reports_a_vanished_file_as_error(api, make_pending):
    pending = make_pending()
    os.remove(pending.path)
    response = api.post(PROMOTE_ONE, {"id": pending.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "error"
    assert "does not exist" in response.json()["error"]


def test_import_a_model_unknown_id_is_404(api):
    response = api.post(PROMOTE_ONE, {"id": 4242}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "pending_not_found"


def test_import_a_model_bad_input_is_400(api):
    assert api.post(PROMOTE_ONE, {"id": "x"}, format="json").status_code == 400
    assert api.post(PROMOTE_ONE, {"id": [1]}, format="json").status_code == 400
    response = api.post(PROMOTE_ONE, {"id": 1, "conflict_strategy": "nope"}, format="json")
    assert response.status_code == 400
