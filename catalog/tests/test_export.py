"""GET /api/models/export?format=csv|jsonl: every matching model, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from catalog.export import COLUMNS
from catalog.models import CatalogModel
from tags.models import Tag

pytestmark = pytest.mark.django_db

AWKWARD = 'Comma, "quotes"\nand a new line'


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def download(api, query: str) -> tuple[object, bytes]:
    response = api.get(f"/api/models/export?{query}")
    assert response.status_code == 200, response.content
    assert response.streaming
    return response, b"".join(response.streaming_content)


def csv_rows(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


@pytest.fixture
def shelf(make_model):
    style, anime = Tag.objects.create(name="style, painterly"), Tag.objects.create(name="anime")
    make_model(
        name=AWKWARD,
        path="/m/loras/a.safetensors",
        size_bytes=123,
        tags=[style, anime],
        favorite=True,
        rating=4,
        description="Line one\nline two, with “quotes” and ünïcode",
        base_model="SDXL 1.0",
        architecture="sdxl",
        kind="lora",
        autov2="0123456789",
    )
    make_model(name="", path="C:\\m\\loras\\bare.ckpt", nsfw=True)
    make_model(name="=HYPERLINK(1)", type="checkpoints")


def test_csv_has_every_column_and_keeps_awkward_text_intact(api, shelf):
    response, body = download(api, "format=csv&type=loras")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="models.csv"'
    rows = csv_rows(body)
    assert list(rows[0]) == list(COLUMNS)
    first = rows[1]  # sorted by the stored name: the bare model's is empty
    assert rows[0]["name"] == "bare.ckpt" and rows[0]["nsfw"] == "true"
    assert first["name"] == AWKWARD
    assert first["tags"] == "anime, style, painterly"
    assert first["description"] == "Line one\nline two, with “quotes” and ünïcode"
    assert (first["favorite"], first["rating"], first["nsfw"]) == ("true", "4", "false")
    assert (first["base_model"], first["architecture"], first["kind"], first["autov2"]) == (
        "SDXL 1.0",
        "sdxl",
        "lora",
        "0123456789",
    )
    assert first["size_bytes"] == "123"


def test_csv_defuses_spreadsheet_formulas(api, shelf):
    _, body = download(api, "format=csv&type=checkpoints")

    assert csv_rows(body)[0]["name"] == "'=HYPERLINK(1)"


def test_jsonl_is_one_object_per_model_with_plain_values(api, shelf):
    response, body = download(api, "format=jsonl")

    assert response["Content-Type"].startswith("application/x-ndjson")
    lines = body.decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    # Sorted by the stored name: the bare model's is empty.
    assert [r["name"] for r in records] == ["bare.ckpt", "=HYPERLINK(1)", AWKWARD]
    awkward = records[2]
    assert list(awkward) == list(COLUMNS)
    assert awkward["tags"] == ["anime", "style, painterly"]
    assert (awkward["favorite"], awkward["rating"], awkward["size_bytes"]) == (True, 4, 123)


def test_the_list_filters_and_ordering_apply(api, shelf):
    _, body = download(api, "format=jsonl&favorite=false&ordering=-name")
    assert [json.loads(line)["name"] for line in body.splitlines()] == [
        "=HYPERLINK(1)",
        "bare.ckpt",
    ]
    _, body = download(api, "format=csv&q=painterly")
    assert [row["name"] for row in csv_rows(body)] == [AWKWARD]
    _, body = download(api, "format=csv&type=vae")
    assert body.decode().strip() == ",".join(COLUMNS)


@pytest.mark.parametrize("query", ["format=xml", "format=csv&min_rating=7", "format=csv&tags=x"])
def test_a_bad_format_or_filter_is_a_json_400(api, shelf, query):
    response = api.get(f"/api/models/export?{query}")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "invalid_filter"


def test_format_defaults_to_csv(api, shelf):
    response, body = download(api, "")
    assert response["Content-Type"].startswith("text/csv")
    assert len(csv_rows(body)) == 3


def test_a_large_export_reads_tags_per_batch_and_misses_nothing(api, django_assert_max_num_queries):
    tag = Tag.objects.create(name="t")
    models = CatalogModel.objects.bulk_create(
        [CatalogModel(sha256=f"{n:064x}", name=f"m {n:05d}", type="loras") for n in range(2_500)]
    )
    CatalogModel.tags.through.objects.bulk_create(
        [CatalogModel.tags.through(catalogmodel_id=m.sha256, tag_id=tag.pk) for m in models[::2]]
    )

    # the rows, then the tags of each batch of 1,000 models
    with django_assert_max_num_queries(4):
        _, body = download(api, "format=jsonl")

    records = [json.loads(line) for line in body.splitlines()]
    assert [r["name"] for r in records] == [f"m {n:05d}" for n in range(2_500)]
    assert sum(r["tags"] == ["t"] for r in records) == 1_250
