"""Library health in the admin: the health page, the index stats, locations on a model's page,
the "file on disk" filter, and deleting a model (never its file)."""

from __future__ import annotations

import os

import pytest

from catalog.models import CatalogModel, ModelLocation
from jobs.models import Job
from library.tests.conftest import catalog_add, digest, weights

pytestmark = pytest.mark.django_db

HEALTH = "/admin/library/libraryhealth/"


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)


def test_the_health_page_shows_stats_and_duplicates(admin_client, roots):
    content = weights("twice", size=3000)
    first = roots.write("models/loras/twice.safetensors", content)
    second = roots.copy(first, "drive2/loras/twice.safetensors")
    catalog_add(first, second, strategy="merge")

    response = admin_client.get(HEALTH)

    html = response.content.decode()
    assert response.status_code == 200
    assert "1 model stored more than once" in html and "2.9\xa0KB reclaimable" in html
    assert first in html and second in html
    assert f"/admin/catalog/catalogmodel/{digest(content)}/change/" in html
    assert "Verify the library now" in html


def test_the_verify_button_submits_a_verify_job(admin_client):
    response = admin_client.post(HEALTH + "verify/")
    assert response.status_code == 302 and response["Location"] == HEALTH
    job = Job.objects.get()
    assert job.kind == "verify"
    admin_client.post(HEALTH + "verify/")
    assert Job.objects.count() == 1  # the same job, not a second one
    assert admin_client.get(HEALTH + "verify/").status_code == 302  # GET changes nothing
    assert Job.objects.count() == 1


def test_the_index_shows_the_library_stats(admin_client, make_model):
    make_model(missing=True)
    make_model()
    html = admin_client.get("/admin/").content.decode()
    assert 'id="library-stats"' in html
    assert "?on_disk=no" in html and "Library health" in html


def test_a_models_page_lists_its_locations_and_the_list_filters_missing(admin_client, roots):
    content = weights("located")
    path = roots.write("models/loras/located.safetensors", content)
    catalog_add(path)
    sha = digest(content)
    gone = CatalogModel.objects.create(sha256="e" * 64, name="Gone", missing=True)

    page = admin_client.get(f"/admin/catalog/catalogmodel/{sha}/change/").content.decode()
    assert "Locations (copies of the file on disk" in page and path in page

    missing = admin_client.get("/admin/catalog/catalogmodel/?on_disk=no")
    assert [model.sha256 for model in missing.context["cl"].result_list] == [gone.sha256]
    present = admin_client.get("/admin/catalog/catalogmodel/?on_disk=yes")
    assert [model.sha256 for model in present.context["cl"].result_list] == [sha]


def test_editing_the_path_in_the_admin_records_a_location(admin_client, roots):
    content = weights("edited")
    path = roots.write("models/loras/edited.safetensors", content)
    catalog_add(path)
    copy = roots.copy(path, "drive2/loras/edited.safetensors")
    sha = digest(content)
    url = f"/admin/catalog/catalogmodel/{sha}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {
        key: value
        for key, value in form.initial.items()
        if key in form.fields and value is not None and key != "tags"
    }
    data.update(path=copy, size_bytes=len(content))
    for prefix in ("locations", "images"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    data["locations-INITIAL_FORMS"] = "1"
    data["locations-TOTAL_FORMS"] = "1"
    data["locations-0-id"] = str(ModelLocation.objects.get(path=path).pk)
    data["locations-0-model"] = sha

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert CatalogModel.objects.get(pk=sha).path == copy
    assert set(ModelLocation.objects.filter(model_id=sha).values_list("path", flat=True)) == {
        path,
        copy,
    }


def test_the_admin_delete_action_removes_the_record_and_never_the_file(admin_client, roots):
    content = weights("admin delete")
    path = roots.write("models/loras/admin delete.safetensors", content)
    catalog_add(path)

    response = admin_client.post(
        "/admin/catalog/catalogmodel/",
        {"action": "delete_selected", "_selected_action": [digest(content)], "post": "yes"},
    )

    assert response.status_code == 302
    assert not CatalogModel.objects.exists() and not ModelLocation.objects.exists()
    assert os.path.exists(path)
