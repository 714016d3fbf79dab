"""images_count in catalog records is the true number, at a constant query cost."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_list_and_detail_show_the_true_image_count(api, make_model, add_image):
    model, empty = make_model(), make_model()
    for i in range(3):
        add_image(model, color=(i * 70, 0, 0))
    api.delete(f"/api/images/delete?sha256={model.sha256}&seq=0")

    listed = {
        row["sha256"]: row["images_count"]
        for row in api.get("/api/models?type=loras").json()["models"]
    }
    detail = api.get(f"/api/models/{model.sha256}").json()

    assert listed == {model.sha256: 2, empty.sha256: 0}
    assert detail["meta_json"]["images_count"] == 2


def test_client_sent_images_count_is_ignored(api, make_model, add_image):
    model = make_model()
    add_image(model)

    response = api.patch(
        f"/api/models/{model.sha256}", {"meta_json": {"images_count": 40}}, format="json"
    )

    assert response.json()["meta_json"]["images_count"] == 1


@pytest.mark.parametrize("models", [2, 12])
def test_list_query_count_does_not_grow_with_models_or_images(
    api, make_model, add_image, django_assert_num_queries, models
):
    for number in range(models):
        model = make_model()
        for i in range(number % 3):
            add_image(model, size=(8, 8), color=(number, i, 0))

    with django_assert_num_queries(2):
        response = api.get("/api/models?type=loras")

    assert len(response.json()["models"]) == models
