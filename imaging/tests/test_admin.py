"""Sample images in the admin: inline upload and delete through the services."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from catalog.models import CatalogModel
from imaging.admin import SampleImageInline
from imaging.models import SampleImage
from imaging.tests.pictures import picture, svg

pytestmark = pytest.mark.django_db


def inline_formset(model, admin_user, data=None, files=None):
    request = RequestFactory().post("/")
    request.user = admin_user
    inline = SampleImageInline(CatalogModel, admin.site)
    formset_class = inline.get_formset(request, model)
    return formset_class(data=data, files=files, instance=model, prefix="images")


def formset_data(model, rows, *, new=0):
    """POST data for the inline: ``rows`` are (image, delete?) for existing images."""
    data = {
        "images-TOTAL_FORMS": str(len(rows) + new),
        "images-INITIAL_FORMS": str(len(rows)),
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for index, (image, delete) in enumerate(rows):
        data[f"images-{index}-id"] = str(image.pk)
        data[f"images-{index}-model"] = model.sha256
        if delete:
            data[f"images-{index}-DELETE"] = "on"
    return data


def test_upload_from_the_inline_takes_the_next_seq_with_renditions(
    make_model, add_image, admin_user
):
    model = make_model()
    existing = add_image(model)
    data = formset_data(model, [(existing, False)], new=1)
    files = {"images-1-original": SimpleUploadedFile("new.png", picture((90, 60)))}

    formset = inline_formset(model, admin_user, data, files)
    assert formset.is_valid(), formset.errors
    formset.save()

    added = SampleImage.objects.get(model=model, seq=1)
    assert (added.width, added.height) == (90, 60)
    assert added.original.storage.exists(added.rendition_name("low"))


def test_inline_refuses_a_file_pillow_cannot_decode(make_model, admin_user):
    model = make_model()
    files = {"images-0-original": SimpleUploadedFile("fake.png", svg())}

    formset = inline_formset(model, admin_user, formset_data(model, [], new=1), files)

    assert not formset.is_valid()
    assert not SampleImage.objects.filter(model=model).exists()


def test_deleting_in_the_inline_shifts_later_images(make_model, add_image, admin_user):
    model = make_model()
    images = [add_image(model, color=(i * 60, 0, 0)) for i in range(4)]
    rows = [(images[0], True), (images[1], False), (images[2], True), (images[3], False)]

    formset = inline_formset(model, admin_user, formset_data(model, rows))
    assert formset.is_valid(), formset.errors
    formset.save()

    assert list(SampleImage.objects.filter(model=model).values_list("uid", "seq")) == [
        (images[1].uid, 0),
        (images[3].uid, 1),
    ]


def test_model_page_shows_the_inline_with_low_thumbnails(admin_client, make_model, add_image):
    model = make_model()
    add_image(model)
    add_image(model, color=(0, 0, 1))

    page = admin_client.get(f"/admin/catalog/catalogmodel/{model.sha256}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert f"/api/images/{model.sha256}_1.webp?quality=low" in html


def test_model_list_has_a_thumbnail_column(admin_client, make_model, add_image):
    with_image, without = make_model(), make_model()
    add_image(with_image)

    html = admin_client.get("/admin/catalog/catalogmodel/").content.decode()

    assert f"/api/images/{with_image.sha256}_0.webp?quality=low" in html
    assert f"/api/images/{without.sha256}_0.webp" not in html


def test_model_list_queries_do_not_grow_with_models(
    admin_client, make_model, add_image, django_assert_max_num_queries
):
    for _ in range(3):
        add_image(make_model())
    with django_assert_max_num_queries(12) as small:
        admin_client.get("/admin/catalog/catalogmodel/")
    for _ in range(10):
        add_image(make_model())

    with django_assert_max_num_queries(len(small.captured_queries)):
        admin_client.get("/admin/catalog/catalogmodel/")


def test_image_admin_delete_goes_through_the_service(admin_client, make_model, add_image):
    model = make_model()
    first, second = add_image(model), add_image(model, color=(5, 5, 5))

    response = admin_client.post(
        f"/admin/imaging/sampleimage/{first.pk}/delete/", {"post": "yes"}, follow=True
    )

    assert response.status_code == 200
    assert list(SampleImage.objects.filter(model=model).values_list("uid", "seq")) == [
        (second.uid, 0)
    ]


def change_form_data(admin_client, model) -> dict:
    """The model page's form as the browser would send it back unchanged."""
    page = admin_client.get(f"/admin/catalog/catalogmodel/{model.sha256}/change/")
    data = {}
    forms = [page.context["adminform"].form]
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or field.disabled:
                continue
            key = form.add_prefix(name)
            data[key] = [str(item) for item in value] if isinstance(value, list) else value
    return {key: value for key, value in data.items() if value is not False}


def test_upload_and_delete_through_the_model_page(admin_client, make_model, add_image):
    model = make_model()
    first = add_image(model)
    second = add_image(model, color=(0, 80, 0))
    data = change_form_data(admin_client, model)
    prefix = "images"  # the sample images' inline (the page has other inlines too)
    data[f"{prefix}-0-DELETE"] = "on"
    new_index = int(data[f"{prefix}-INITIAL_FORMS"])
    data[f"{prefix}-{new_index}-original"] = SimpleUploadedFile("new.png", picture((50, 30)))

    response = admin_client.post(f"/admin/catalog/catalogmodel/{model.sha256}/change/", data)

    assert response.status_code == 302, response.context["errors"] if response.context else ""
    images = list(SampleImage.objects.filter(model=model).order_by("seq"))
    assert [(image.seq, image.uid) for image in images[:1]] == [(0, second.uid)]
    assert [(image.seq, image.width, image.height) for image in images[1:]] == [(1, 50, 30)]
    assert first.uid not in {image.uid for image in images}
