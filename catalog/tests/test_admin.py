"""The catalog model admin, through the test client as a logged-in superuser."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/catalogmodel/"


@pytest.fixture
def admin_user(django_user_model):
    # Replaces pytest-django's: no password to hash (a second per test); admin_client
    # logs in with force_login.
    return django_user_model.objects.create(username="curator", is_staff=True, is_superuser=True)


def shown(response) -> list[str]:
    """sha256s of the rows the changelist shows."""
    assert response.status_code == 200
    return [model.sha256 for model in response.context["cl"].result_list]


def test_changelist_shows_name_type_human_size_and_tags(admin_client, make_model):
    anime, style = Tag.objects.create(name="anime"), Tag.objects.create(name="style")
    make_model(name="Detailer", type="loras", size_bytes=151_000_000, tags=[style, anime])
    make_model(name="", path="C:\\models\\vae\\fallback.safetensors", type="vae")

    response = admin_client.get(CHANGELIST)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Detailer" in html and "fallback.safetensors" in html
    assert "144.0\xa0MB" in html
    assert "anime, style" in html


def test_changelist_filters_by_type_and_by_tag(admin_client, make_model):
    anime = Tag.objects.create(name="anime")
    lora = make_model(type="loras", tags=[anime])
    vae = make_model(type="vae")
    plain_lora = make_model(type="loras")

    by_type = admin_client.get(CHANGELIST, {"type__exact": "vae"})
    by_tag = admin_client.get(CHANGELIST, {"tags__id__exact": anime.id})
    everything = admin_client.get(CHANGELIST)

    assert shown(by_type) == [vae.sha256]
    assert shown(by_tag) == [lora.sha256]
    assert set(shown(everything)) == {lora.sha256, vae.sha256, plain_lora.sha256}
    filters = everything.content.decode()
    assert "By type" in filters and "By tags" in filters


@pytest.mark.parametrize("term", ["Detail", "flux", "ABAB", "abab" * 16])
def test_changelist_searches_name_path_and_sha256(admin_client, make_model, term):
    wanted = make_model("ab" * 32, name="Detailer", path="/m/flux/d.safetensors")
    make_model("cd" * 32, name="Other", path="/m/sdxl/o.safetensors")

    assert shown(admin_client.get(CHANGELIST, {"q": term})) == [wanted.sha256]


def test_changelist_query_count_does_not_grow_with_rows(admin_client, make_model):
    tags = [Tag.objects.create(name=f"t{n}") for n in range(3)]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(CHANGELIST).status_code == 200
        return len(captured)

    for _ in range(3):
        make_model(tags=tags)
    few = queries()
    for _ in range(30):
        make_model(tags=tags)

    assert queries() == few


def test_change_page_edits_tags_with_autocomplete(admin_client, make_model):
    model = make_model("ab" * 32)

    response = admin_client.get(f"{CHANGELIST}{model.sha256}/change/")

    assert response.status_code == 200
    assert 'class="admin-autocomplete' in response.content.decode()


def test_tag_autocomplete_finds_tags_by_name(admin_client):
    Tag.objects.create(name="anime")
    Tag.objects.create(name="landscape")

    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "catalog", "model_name": "catalogmodel", "field_name": "tags", "term": "ANI"},
    )

    assert response.status_code == 200
    assert [item["text"] for item in response.json()["results"]] == ["anime"]


def inline_management_data(response) -> dict[str, str]:
    """Empty management forms for whatever inlines the change page has (images, ...)."""
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        prefix = inline.formset.prefix
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    return data


def test_saving_the_change_form_updates_fields_and_tags_but_not_the_sha256(
    admin_client, make_model
):
    old, anime, style = (Tag.objects.create(name=n) for n in ("old", "anime", "style"))
    model = make_model("ab" * 32, tags=[old])
    url = f"{CHANGELIST}{model.sha256}/change/"
    data = {
        **inline_management_data(admin_client.get(url)),
        "sha256": "cd" * 32,
        "name": "Curated",
        "type": "loras",
        "path": model.path,
        "tags": [anime.id, style.id],
        "size_bytes": "10",
        "created_at": "20",
        "description": "edited in the admin",
        "community_links": "",
        "prompt_positive": "",
        "prompt_negative": "",
        "extra_meta": '{"base_model": "SDXL"}',
        "rating": "0",
    }

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    model = CatalogModel.objects.get()
    assert model.sha256 == "ab" * 32
    assert model.name == "Curated" and model.description == "edited in the admin"
    assert model.extra_meta == {"base_model": "SDXL"}
    assert sorted(model.tags.values_list("name", flat=True)) == ["anime", "style"]


def test_file_hashes_are_listed_read_only(admin_client):
    from catalog.models import FileHash

    FileHash.objects.create(path="/m/a.safetensors", size_bytes=1, mtime_ns=2, sha256="ab" * 32)

    assert "/m/a.safetensors" in admin_client.get("/admin/catalog/filehash/").content.decode()
    assert admin_client.get("/admin/catalog/filehash/add/").status_code == 403
