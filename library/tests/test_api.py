"""The library routes (verify, duplicates, stats), DELETE /api/models/{sha256}, the
verify job, and the new fields of the catalog forms."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from catalog.models import CatalogModel, ModelLocation
from config.tokens import api_token_issue
from imaging.models import SampleImage
from imaging.services import sample_image_add
from imaging.tests.pictures import picture
from jobs.models import Job
from library.tests.conftest import catalog_add, digest, weights
from migration_app.models import PendingModel
from migration_app.services.folder_scan import folder_scan
from tags.models import Tag

pytestmark = pytest.mark.django_db

REPORT_KEYS = {
    "status",
    "checked",
    "missing",
    "restored",
    "changed",
    "unchanged",
    "staged",
    "linked",
    "failed",
    "failures",
}


def test_verify_answers_the_counts(api, roots):
    present = roots.write("models/loras/present.safetensors", weights("present"))
    gone = roots.write("models/loras/gone.safetensors", weights("gone"))
    catalog_add(present, gone)
    roots.remove(gone)

    body = api.post("/api/library/verify", {}, format="json").json()

    assert set(body) == REPORT_KEYS
    assert (body["status"], body["checked"], body["missing"], body["unchanged"]) == (
        "success",
        2,
        1,
        1,
    )
    record = api.get(f"/api/models/{digest(weights('gone'))}").json()
    assert record["missing"] is True and record["missing_since"] > 0
    assert record["locations"] == [
        {
            "path": gone,
            "size_bytes": 4096,
            "missing": True,
            "missing_since": record["missing_since"],
        }
    ]
    listed = api.get("/api/models?type=loras").json()["models"]
    assert {(item["path"], item["missing"]) for item in listed} == {(present, False), (gone, True)}


def test_verify_with_prefer_runs_as_a_job_with_the_same_report(api, roots, transactional_db):
    from django.core.management import call_command

    path = roots.write("models/loras/a.safetensors", weights("a"))
    catalog_add(path)
    response = api.post("/api/library/verify", {}, format="json", HTTP_PREFER="respond-async")
    assert response.status_code == 202
    assert response["Location"] == f"/api/jobs/{response.json()['id']}"
    call_command("jobs_worker", "--burst", "--worker-id", "test-worker", verbosity=0)
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.state, job.unit) == ("verify", "succeeded", "files")
    assert set(job.result) == REPORT_KEYS and job.result["unchanged"] == 1
    assert (job.progress_done, job.progress_total) == (1, 1)


def test_verify_is_a_job_kind_of_its_own(api):
    response = api.post("/api/jobs", {"kind": "verify"}, format="json")
    assert response.status_code == 202 and response.json()["kind"] == "verify"
    again = api.post("/api/jobs", {"kind": "verify", "params": {}}, format="json")
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_duplicates_lists_copies_largest_waste_first(api, roots):
    small, large = weights("small", size=1000), weights("large", size=9000)
    paths = [
        roots.write("models/loras/small.safetensors", small),
        roots.write("drive2/loras/small.safetensors", small),
        roots.write("models/loras/large.safetensors", large),
        roots.write("drive2/loras/large.safetensors", large),
        roots.write("models/checkpoints/large.ckpt", large),
    ]
    catalog_add(*paths, strategy="merge")

    body = api.get("/api/library/duplicates").json()

    assert [group["sha256"] for group in body["groups"]] == [digest(large), digest(small)]
    first = body["groups"][0]
    assert (first["copies"], first["size_bytes"], first["reclaimable_bytes"]) == (3, 9000, 18000)
    assert first["name"] == "large.safetensors"
    assert body["total_reclaimable_bytes"] == 18000 + 1000


def test_duplicates_include_hashed_pending_copies_of_cataloged_bytes(api, roots):
    content = weights("pending copy")
    path = roots.write("models/loras/p.safetensors", content)
    catalog_add(path)
    copy = roots.copy(path, "drive2/loras/p.safetensors")
    folder_scan()
    PendingModel.objects.filter(path=copy).update(sha256=digest(content))

    (group,) = api.get("/api/library/duplicates").json()["groups"]

    assert group["locations"] == [
        {"path": path, "same_file_as": None},
        {"path": copy, "same_file_as": None},
    ]


@pytest.mark.parametrize("route", ["/api/library/duplicates", "/api/library/stats"])
def test_reports_take_the_same_number_of_queries_at_any_size(api, route, django_assert_num_queries):
    def grow(count: int) -> None:
        start = CatalogModel.objects.count()
        for index in range(start, start + count):
            sha = f"{index:064x}"
            CatalogModel.objects.create(sha256=sha, type="loras", size_bytes=10)
            for copy in range(2):
                ModelLocation.objects.create(
                    model_id=sha, path=f"/nowhere/{index}/{copy}", size_bytes=10, device=1,
                    inode=index * 2 + copy,
                )  # fmt: skip

    grow(2)
    with django_assert_num_queries(2 if "duplicates" in route else 5) as small:
        api.get(route)
    grow(40)
    with django_assert_num_queries(len(small.captured_queries)):
        body = api.get(route).json()
    if "duplicates" in route:
        assert len(body["groups"]) == 42 and body["total_reclaimable_bytes"] == 420


def test_stats_count_by_type_and_base_model(api, make_model):
    make_model(type="loras", size_bytes=100, base_model="SDXL 1.0")
    make_model(type="loras", size_bytes=50, base_model="SD 1.5", missing=True)
    make_model(type="checkpoints", size_bytes=1000, base_model="SDXL 1.0")
    PendingModel.objects.create(path="/p/a", size_bytes=7, sha256="a" * 64)
    PendingModel.objects.create(path="/p/b", size_bytes=3)

    body = api.get("/api/library/stats").json()

    assert (body["models"], body["bytes"], body["missing"]) == (3, 1150, 1)
    assert body["by_type"] == [
        {"type": "checkpoints", "count": 1, "bytes": 1000, "missing": 0},
        {"type": "loras", "count": 2, "bytes": 150, "missing": 1},
    ]
    assert body["by_base_model"] == [
        {"base_model": "SD 1.5", "count": 1, "bytes": 50, "missing": 1},
        {"base_model": "SDXL 1.0", "count": 2, "bytes": 1100, "missing": 0},
    ]
    assert (body["pending"], body["pending_hashed"], body["pending_bytes"]) == (2, 1, 10)


def test_delete_removes_the_record_its_tags_and_images_but_never_the_file(
    api, roots, django_capture_on_commit_callbacks
):
    content = weights("to delete")
    path = roots.write("models/loras/delete me.safetensors", content)
    catalog_add(path)
    sha = digest(content)
    model = CatalogModel.objects.get(pk=sha)
    tag = Tag.objects.create(name="still here")
    model.tags.add(tag)
    image = sample_image_add(model=model, content=picture((30, 20)), file_name="s.png")
    image_file = os.path.join(settings.MEDIA_ROOT, image.original.name)
    assert os.path.exists(image_file)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.delete(f"/api/models/{sha.upper()}")

    assert (response.status_code, response.json()) == (200, {"status": "success"})
    assert not CatalogModel.objects.filter(pk=sha).exists()
    assert not SampleImage.objects.exists() and not ModelLocation.objects.exists()
    assert not os.path.exists(image_file)
    assert Tag.objects.filter(pk=tag.pk).exists()  # the tag itself stays
    assert os.path.exists(path)  # and the model file (the disk fixture checks its bytes)
    # The file is no longer cataloged: the next scan stages it again.
    assert folder_scan().pending_added == 1


def test_delete_of_an_unknown_or_malformed_sha256_is_a_json_error(api):
    missing = api.delete("/api/models/" + "c" * 64)
    assert (missing.status_code, missing.json()["code"]) == (404, "model_not_found")
    bad = api.delete("/api/models/not-a-hash")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_sha256")


def test_token_mode_keeps_delete_and_verify_for_staff(settings, make_model):
    settings.API_AUTH = "token"
    model = make_model()

    def client(name: str, staff: bool) -> APIClient:
        token, _ = api_token_issue(username=name, create_user=True, staff=staff)
        return APIClient(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")

    user, staff = client("alice", False), client("root", True)
    assert user.get("/api/library/stats").status_code == 200
    assert user.get("/api/library/duplicates").status_code == 200
    refused = user.delete(f"/api/models/{model.sha256}")
    assert (refused.status_code, refused.json()["code"]) == (403, "staff_required")
    assert user.post("/api/library/verify", {}, format="json").status_code == 403
    assert CatalogModel.objects.filter(pk=model.sha256).exists()
    assert staff.post("/api/library/verify", {}, format="json").status_code == 200
    assert staff.delete(f"/api/models/{model.sha256}").status_code == 200


def test_patch_path_records_the_new_location_and_keeps_the_old(api, roots):
    content = weights("patched")
    path = roots.write("models/loras/patched.safetensors", content)
    catalog_add(path)
    elsewhere = roots.copy(path, "drive2/loras/patched.safetensors")

    record = api.patch(f"/api/models/{digest(content)}", {"path": elsewhere}, format="json").json()

    assert record["path"] == elsewhere
    assert [(item["path"], item["missing"]) for item in record["locations"]] == [
        (elsewhere, False),
        (path, False),
    ]


def test_duplicates_of_a_missing_model_held_only_by_pending_files(api, roots, make_model):
    content = weights("only pending", size=2000)
    model = make_model(digest(content), name="Gone model", path="", size_bytes=2000)
    first = roots.write("models/loras/one.safetensors", content)
    second = roots.copy(first, "drive2/loras/two.safetensors")
    folder_scan()
    PendingModel.objects.update(sha256=model.sha256)

    (group,) = api.get("/api/library/duplicates").json()["groups"]

    assert (group["name"], group["copies"], group["reclaimable_bytes"]) == ("Gone model", 2, 2000)
    assert [item["path"] for item in group["locations"]] == [first, second]
