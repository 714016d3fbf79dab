"""Every image route through the API: status, JSON, database and storage state."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from imaging import responses
from imaging.models import SampleImage
from imaging.tests.conftest import stored_files
from imaging.tests.pictures import bomb_png, jpeg_with_exif, picture, svg

pytestmark = pytest.mark.django_db


def webp_size(response) -> tuple[int, int]:
    body = b"".join(response.streaming_content)
    image = Image.open(io.BytesIO(body))
    assert image.format == "WEBP"
    return image.size


def upload(api, sha256, content=None, name="picture.png"):
    content = picture((300, 200)) if content is None else content
    return api.post(
        "/api/images/upload",
        {"sha256": sha256, "image": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def seqs(model) -> list[int]:
    return list(SampleImage.objects.filter(model=model).values_list("seq", flat=True))


# GET /api/images/{name}


@pytest.mark.parametrize("suffix", [".webp", ""])
def test_image_is_served_as_webp_with_and_without_extension(api, make_model, add_image, suffix):
    model = make_model()
    add_image(model, size=(300, 200))

    response = api.get(f"/api/images/{model.sha256}_0{suffix}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert webp_size(response) == (300, 200)


def test_image_requests_accepting_only_images_get_the_image(api, make_model, add_image):
    model = make_model()
    add_image(model)

    response = api.get(f"/api/images/{model.sha256}_0.webp", HTTP_ACCEPT="image/webp")
    missing = api.get(f"/api/images/{model.sha256}_9.webp", HTTP_ACCEPT="image/webp")

    assert response.status_code == 200
    assert missing.status_code == 404
    assert missing.json()["code"] == "image_not_found"


def test_head_answers_with_headers_only(api, make_model, add_image):
    model = make_model()
    add_image(model)

    response = api.head(f"/api/images/{model.sha256}_0.webp")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["ETag"]


def test_quality_selects_the_tier(api, make_model, add_image):
    model = make_model()
    add_image(model, size=(300, 200))

    medium = api.get(f"/api/images/{model.sha256}_0.webp?quality=medium")
    low = api.get(f"/api/images/{model.sha256}_0.webp?quality=low&rev=123")

    assert webp_size(medium) == (198, 132)
    assert webp_size(low) == (99, 66)


def test_bare_sha256_takes_seq_from_the_query_default_zero(api, make_model, add_image):
    model = make_model()
    add_image(model, size=(40, 40))
    add_image(model, size=(80, 40))

    assert webp_size(api.get(f"/api/images/{model.sha256}.webp")) == (40, 40)
    assert webp_size(api.get(f"/api/images/{model.sha256}?seq=1")) == (80, 40)
    assert webp_size(api.get(f"/api/images/{model.sha256.upper()}.webp?seq=1")) == (80, 40)


def test_seq_in_the_name_wins_over_the_query(api, make_model, add_image):
    model = make_model()
    add_image(model, size=(40, 40))
    add_image(model, size=(80, 40))

    assert webp_size(api.get(f"/api/images/{model.sha256}_1.webp?seq=0")) == (80, 40)


def test_exif_orientation_is_applied_when_served(api, make_model):
    model = make_model()
    upload(api, model.sha256, jpeg_with_exif((60, 40), orientation=6), "photo.jpg")

    assert webp_size(api.get(f"/api/images/{model.sha256}_0.webp")) == (40, 60)


def test_conditional_request_answers_304(api, make_model, add_image):
    model = make_model()
    add_image(model)
    url = f"/api/images/{model.sha256}_0.webp"
    etag = api.get(url)["ETag"]

    assert api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert api.get(url + "?quality=low", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_etag_follows_the_picture_when_seqs_shift(api, make_model, add_image):
    model = make_model()
    add_image(model)
    add_image(model, color=(0, 0, 200))
    url = f"/api/images/{model.sha256}_0.webp"
    first_etag = api.get(url)["ETag"]

    api.delete(f"/api/images/delete?sha256={model.sha256}&seq=0")

    assert api.get(url, HTTP_IF_NONE_MATCH=first_etag).status_code == 200


@pytest.mark.parametrize("quality", ["best", "HIGH", "0"])
def test_unknown_quality_is_400(api, make_model, add_image, quality):
    model = make_model()
    add_image(model)

    response = api.get(f"/api/images/{model.sha256}_0.webp?quality={quality}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_quality"


def test_missing_image_is_404(api, make_model, add_image):
    model = make_model()
    add_image(model)

    assert api.get(f"/api/images/{model.sha256}_1.webp").status_code == 404
    assert api.get(f"/api/images/{'f' * 64}_0.webp").json()["code"] == "image_not_found"


@pytest.mark.parametrize("seq", ["-1", "x", "1.5", "9999999999"])
def test_bad_seq_in_the_query_is_400(api, make_model, seq):
    response = api.get(f"/api/images/{make_model().sha256}?seq={seq}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_seq"


@pytest.fixture
def storage_calls(monkeypatch):
    """Names passed to the media storage while a request runs."""
    calls: list[str] = []
    # The storage object itself, not the lazy default_storage: the spies go
    # with it when the test's settings are restored.
    storage = storages["default"]
    for method in ("open", "exists", "path", "delete", "save", "listdir", "size"):
        original = getattr(storage, method)

        def spy(name, *args, _original=original, **kwargs):
            calls.append(name)
            return _original(name, *args, **kwargs)

        monkeypatch.setattr(storage, method, spy)
    original_open = responses.stored_file_open

    def stream_spy(storage, name):  # streams from S3 without a storage method
        calls.append(name)
        return original_open(storage, name)

    monkeypatch.setattr(responses, "stored_file_open", stream_spy)
    return calls


@pytest.mark.parametrize(
    "path",
    [
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "..%2f..%2fsettings.py",
        "%2Fetc%2Fpasswd",
        "/etc/passwd",
        "..%5C..%5Cwindows%5Cwin.ini",
        "a" * 64 + "_0%00.webp",
        "a" * 64 + "%00",
        "x" * 3000,
        "a" * 64 + "_" + "1" * 3000,
        "*",
        "a" * 64 + "_*.webp",
        ".webp",
        "a" * 64 + ".webp.webp",
        "a" * 63 + "g.webp",
    ],
)
def test_hostile_names_are_refused_without_storage_access(api, make_model, storage_calls, path):
    make_model("a" * 64)

    response = api.get(f"/api/images/{path}")

    assert response.status_code in (400, 404)
    assert set(response.json()) >= {"error", "code"}
    assert storage_calls == []


def test_the_storage_spy_sees_a_valid_request(api, make_model, add_image, storage_calls):
    model = make_model()
    add_image(model)
    storage_calls.clear()

    api.get(f"/api/images/{model.sha256}_0.webp")

    assert set(storage_calls) == {f"images/renditions/{model.images.get().uid}_high.webp"}


def test_pending_routes_are_not_taken_by_the_name_route(api):
    response = api.get("/api/images/pending/x.png")

    assert response.json()["code"] != "invalid_image_name"


# get_img_num / get_img_count


@pytest.mark.parametrize("route", ["get_img_num", "get_img_count"])
def test_image_count(api, make_model, add_image, route):
    model = make_model()
    add_image(model)
    add_image(model, color=(1, 2, 3))

    assert api.get(f"/api/images/{route}?sha256={model.sha256.upper()}").json() == {"count": 2}
    assert api.get(f"/api/images/{route}?sha256={make_model().sha256}").json() == {"count": 0}


@pytest.mark.parametrize("query", ["sha256=abc", "sha256=" + "z" * 64, ""])
def test_image_count_with_a_malformed_sha256_is_400(api, query):
    response = api.get(f"/api/images/get_img_num?{query}")

    assert response.status_code == 400
    assert "sha256" in response.json()["fields"]


# DELETE /api/images/delete


def test_delete_removes_the_image_and_shifts_later_ones(api, make_model, add_image):
    model = make_model()
    images = [add_image(model, color=(i * 60, 0, 0)) for i in range(3)]

    response = api.delete(f"/api/images/delete?sha256={model.sha256}&seq=0")

    assert response.status_code == 200
    assert response.json() == {"status": "success"}
    assert list(SampleImage.objects.filter(model=model).values_list("uid", "seq")) == [
        (images[1].uid, 0),
        (images[2].uid, 1),
    ]
    assert api.get(f"/api/images/get_img_num?sha256={model.sha256}").json() == {"count": 2}


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_files(api, make_model, add_image):
    model = make_model()
    kept, deleted = add_image(model), add_image(model, color=(0, 9, 0))

    api.delete(f"/api/images/delete?sha256={model.sha256}&seq=1")

    assert stored_files() == {kept.original.name, *kept.rendition_names()}
    assert deleted.original.name not in stored_files()


def test_delete_of_a_missing_image_is_404(api, make_model, add_image):
    model = make_model()
    add_image(model)

    response = api.delete(f"/api/images/delete?sha256={model.sha256}&seq=5")

    assert response.status_code == 404
    assert seqs(model) == [0]


@pytest.mark.parametrize(
    "query", ["seq=0", "sha256=abc&seq=0", "sha256={sha}", "sha256={sha}&seq=-1"]
)
def test_delete_with_bad_input_is_400(api, make_model, add_image, query):
    model = make_model()
    add_image(model)

    response = api.delete("/api/images/delete?" + query.format(sha=model.sha256))

    assert response.status_code == 400
    assert seqs(model) == [0]


def test_delete_needs_the_delete_method(api, make_model):
    response = api.get(f"/api/images/delete?sha256={make_model().sha256}&seq=0")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


# POST /api/images/upload


def test_upload_adds_the_next_seq(api, make_model, add_image):
    model = make_model()
    add_image(model)

    response = upload(api, model.sha256.upper())

    assert response.status_code == 201
    assert response.json() == {"status": "success", "base_name": f"{model.sha256}_1"}
    assert seqs(model) == [0, 1]
    assert webp_size(api.get(f"/api/images/{model.sha256}_1.webp")) == (300, 200)


def test_upload_for_an_unknown_model_is_404(api):
    response = upload(api, "c" * 64)

    assert response.status_code == 404
    assert response.json()["code"] == "model_not_found"
    assert stored_files() == set()


@pytest.mark.parametrize(
    ("content", "name"),
    [(svg(), "vector.svg"), (svg(), "vector.png"), (b"hello, not a picture", "notes.png")],
)
def test_upload_of_something_pillow_cannot_decode_is_415(api, make_model, content, name):
    model = make_model()

    response = upload(api, model.sha256, content, name)

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_image"
    assert seqs(model) == []
    assert stored_files() == set()


def test_upload_of_a_decompression_bomb_is_400(api, make_model):
    model = make_model()

    response = upload(api, model.sha256, bomb_png())

    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large_in_pixels"
    assert stored_files() == set()


def bmp_of(megabytes: float) -> bytes:
    # BMP is uncompressed: about 3 bytes a pixel.
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5) + 1
    return picture((side, side), image_format="BMP")


@pytest.mark.parametrize("megabytes", [1.5, 3])
def test_upload_over_max_upload_mb_is_413_json(api, make_model, settings, megabytes):
    settings.MAX_UPLOAD_MB = 1
    model = make_model()

    response = upload(api, model.sha256, bmp_of(megabytes), "big.bmp")

    assert response.status_code == 413
    assert response.json()["code"] == "upload_too_large"
    assert "MAX_UPLOAD_MB" in response.json()["error"]
    assert seqs(model) == []


def test_upload_above_djangos_memory_limits_but_under_max_upload_mb_is_accepted(
    api, make_model, settings
):
    assert settings.MAX_UPLOAD_MB * 1024 * 1024 > 12 * 1024 * 1024
    model = make_model()

    response = upload(api, model.sha256, bmp_of(12), "big.bmp")

    assert response.status_code == 201


@pytest.mark.parametrize(
    "data",
    [{"sha256": "a" * 64}, {"image": SimpleUploadedFile("a.png", picture())}, {}],
    ids=["no image", "no sha256", "nothing"],
)
def test_upload_with_missing_fields_is_400(api, make_model, data):
    make_model("a" * 64)

    response = api.post("/api/images/upload", data, format="multipart")

    assert response.status_code == 400
    assert response.json()["fields"]


def test_upload_with_a_malformed_sha256_is_400(api):
    response = upload(api, "not-a-sha")

    assert response.status_code == 400
    assert "sha256" in response.json()["fields"]


# POST /api/images/get_sample_imgs


def test_sample_images_lists_urls_in_seq_order(api, make_model, add_image):
    model = make_model()
    add_image(model)
    add_image(model, color=(0, 0, 1))
    sha = model.sha256

    default = api.post("/api/images/get_sample_imgs", {"sha256": sha}, format="json")
    low = api.post("/api/images/get_sample_imgs", {"sha256": sha, "quality": "low"}, format="json")

    assert default.json() == {
        "images": [
            f"/api/images/{sha}_0.webp?quality=high",
            f"/api/images/{sha}_1.webp?quality=high",
        ],
        "quality": "high",
        "count": 2,
    }
    assert low.json()["images"][1] == f"/api/images/{sha}_1.webp?quality=low"
    assert api.get(low.json()["images"][1]).status_code == 200


def test_sample_images_of_a_model_without_images_is_empty(api, make_model):
    response = api.post(
        "/api/images/get_sample_imgs", {"sha256": make_model().sha256}, format="json"
    )

    assert response.json() == {"images": [], "quality": "high", "count": 0}


@pytest.mark.parametrize(
    "body", [{"sha256": "a" * 64, "quality": "huge"}, {"sha256": "xyz"}, {}, ["a" * 64]]
)
def test_sample_images_with_bad_input_is_400(api, body):
    response = api.post("/api/images/get_sample_imgs", body, format="json")

    assert response.status_code == 400


def test_image_routes_are_in_the_schema(api):
    paths = api.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]

    for route in ("upload", "delete", "get_img_num", "get_img_count", "get_sample_imgs", "{name}"):
        assert f"/api/images/{route}" in paths
