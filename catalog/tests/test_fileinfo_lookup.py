"""GET /api/models/lookup?hash=: any hash form, any case, with or without a prefix."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/models/lookup"
SHA = "0123456789abcdef" * 4
TENSOR = "fedcba9876543210" * 4


@pytest.fixture
def model(make_model):
    return make_model(
        SHA,
        name="Detailer",
        autov1="a1b2c3d4",
        autov2=SHA[:10],
        autov3=TENSOR[:12],
        tensor_sha256=TENSOR,
    )


@pytest.mark.parametrize(
    "value",
    [
        SHA,
        SHA.upper(),
        f"sha256:{SHA}",
        f" SHA256:{SHA.upper()} ",
        TENSOR,
        f"tensor_sha256:{TENSOR}",
        TENSOR[:12],
        f"autov3:{TENSOR[:12].upper()}",
        SHA[:10],
        f"AutoV2:{SHA[:10]}",
        "A1B2C3D4",
        "autov1:a1b2c3d4",
    ],
)
def test_each_hash_form_finds_the_model(api, model, value):
    response = api.get(URL, {"hash": value})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["sha256"] == SHA
    assert body["name"] == "Detailer"
    assert "file" in body


def test_a_prefix_limits_the_search_to_its_form(api, make_model):
    make_model("1" * 64, tensor_sha256="2" * 64)
    make_model("2" * 64)
    assert api.get(URL, {"hash": "tensor_sha256:" + "2" * 64}).json()["sha256"] == "1" * 64
    assert api.get(URL, {"hash": "sha256:" + "2" * 64}).json()["sha256"] == "2" * 64
    # Without a prefix the 64 digits match both forms: two models.
    response = api.get(URL, {"hash": "2" * 64})
    assert response.status_code == 409
    assert response.json()["candidates"] == ["1" * 64, "2" * 64]


def test_several_models_with_one_short_hash_is_a_409_with_candidates(api, make_model):
    make_model("b" * 64, autov1="deadbeef")
    make_model("a" * 64, autov1="deadbeef")
    response = api.get(URL, {"hash": "DEADBEEF"})
    assert response.status_code == 409
    assert response.json() == {
        "error": response.json()["error"],
        "code": "ambiguous_hash",
        "candidates": ["a" * 64, "b" * 64],
    }


def test_an_unknown_hash_is_a_404(api, model):
    response = api.get(URL, {"hash": "ffffffff"})
    assert response.status_code == 404
    assert response.json()["code"] == "hash_not_found"


@pytest.mark.parametrize(
    "value",
    ["", "xyz", "12345", "a1b2c3d4e5f", "md5:a1b2c3d4", "autov2:a1b2c3d4", "sha256:" + "0" * 10],
)
def test_a_malformed_hash_is_a_400(api, model, value):
    response = api.get(URL, {"hash": value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_hash"


def test_lookup_costs_one_query_more_than_nothing_the_full_record_needs(api, model):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as detail:
        assert api.get(f"/api/models/{SHA}").status_code == 200
    with CaptureQueriesContext(connection) as lookup:
        assert api.get(URL, {"hash": "a1b2c3d4"}).status_code == 200
    # The same queries as the record itself: the match is found by the record's
    # own query, through the autov1 index.
    assert len(lookup.captured_queries) == len(detail.captured_queries)
    assert "autov1" in lookup.captured_queries[0]["sql"]


def test_lookup_is_not_taken_for_a_sha256(api, model):
    # /api/models/lookup is a route of its own, not a model called "lookup".
    assert api.get("/api/models/lookup").status_code == 400


@pytest.mark.parametrize(
    ("value", "index"),
    [
        ("a1b2c3d4", "catalog_autov1_idx"),
        (SHA[:10], "catalog_autov2_idx"),
        (TENSOR[:12], "catalog_autov3_idx"),
        (TENSOR, "catalog_tensor_sha256_idx"),
    ],
)
def test_each_form_is_found_through_its_index(model, value, index):
    from django.db import connection, transaction

    from catalog.lookup import hash_query
    from catalog.models import CatalogModel

    queryset = CatalogModel.objects.filter(hash_query(value)[1])
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # With one row any plan is as cheap; give the planner a realistic table.
            CatalogModel.objects.bulk_create(
                [
                    CatalogModel(sha256=f"{n:064x}", name=f"m{n}", type="loras", path=f"/m/{n}")
                    for n in range(1, 5001)
                ]
            )
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE catalog_catalogmodel")
        plan = queryset.explain()
    assert index in plan
