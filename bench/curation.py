"""Curation at 100,000 models: search (q), a bulk edit of 10,000 models, and the CSV export.

- q of two words against the same list without q: the full list (both words
  on every model, so both answers hold the same 100,000 rows and the ratio is
  the search's own cost), two selective words, and a page of 50 with its total.
- POST /api/models/bulk adding one tag to 10,000 models (by sha256 and by
  filter): seconds and SQL statements.
- GET /api/models/export?format=csv of 100,000 models, read chunk by chunk as a
  client would: the peak resident memory above the process's idle level
  (VmHWM, reset before the request) and tracemalloc's peak.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator

from bench.common import (
    PYTHON,
    Row,
    best_of,
    django_ready,
    emit,
    parse_args,
    peak_memory,
    run_process,
)
from bench.generate import catalog_rows

MODEL_TYPE = "loras"


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from django.db import connection
    from django.test import Client

    size = 10_000 if args.quick else 100_000
    started = time.perf_counter()
    catalog_rows(count=size, model_type=MODEL_TYPE)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{size:,} models generated (search documents by trigger) in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
    client = Client(HTTP_HOST="localhost")
    search(client, args, size)
    bulk(client, size)
    export(client, size)


@contextlib.contextmanager
def counted() -> Iterator[list[str]]:
    """The SQL statements run inside, counted by an execute wrapper (the test
    client resets Django's own query log at each request)."""
    from django.db import connection

    statements: list[str] = []

    def wrapper(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield statements


def _get(client, params: dict) -> bytes:
    response = client.get("/api/models", params)
    assert response.status_code == 200, response.content[:500]
    return response.content


def search(client, args, size: int) -> None:
    cases = [
        # Names are "loras model 012345", paths /models/loras/set_00246/model_012345...
        ("every model matches both words, full list", {"q": "loras model"}, {}, 2.0),
        ("two selective words, full list", {"q": "model 01234 set_0002"}, {}, None),
        ("a tag name and a number, page of 50 + total", {"q": "bench 012"}, {"limit": 50}, None),
    ]
    for label, query, page, target in cases:
        with_q = {"type": MODEL_TYPE, **query, **page}
        without_q = {"type": MODEL_TYPE, **page}
        body = json.loads(_get(client, with_q))
        with counted() as captured:
            _get(client, with_q)
        ours, limit = best_of(
            args.repeat, lambda w=with_q: _get(client, w), lambda w=without_q: _get(client, w)
        )
        found = body.get("total", len(body["models"]))
        emit(
            Row(
                benchmark=f"q={query['q']!r} at {size:,} models: {label}",
                measured=f"{ours:.3f} s, {found:,} found, {len(captured)} queries",
                limit=f"the same list without q {limit:.3f} s",
                ratio=ours / limit,
                op="<=" if target else "",
                target=target,
            )
        )


def bulk(client, size: int) -> None:
    from django.db import connection

    from catalog.models import CatalogModel

    shas = list(
        CatalogModel.objects.filter(type=MODEL_TYPE).order_by("pk").values_list("pk", flat=True)
    )[:10_000]
    for label, body in (
        ("by sha256", {"sha256": shas, "add_tags": ["bulk bench a"]}),
        (
            "by filter (q)",
            {"filter": {"type": MODEL_TYPE, "q": '"model 01"'}, "add_tags": ["bulk b"]},
        ),
    ):
        with counted() as captured:
            start = time.perf_counter()
            response = client.post("/api/models/bulk", body, content_type="application/json")
            seconds = time.perf_counter() - start
        assert response.status_code == 200, response.content[:500]
        result = response.json()
        emit(
            Row(
                benchmark=f"bulk add of one tag, {label}",
                measured=f"{seconds:.3f} s for {result['changed']:,} models, "
                f"{len(captured)} queries",
                limit="1 s",
                ratio=seconds / 1.0,
                op="<=" if connection.vendor == "sqlite" and label == "by sha256" else "",
                target=1.0 if connection.vendor == "sqlite" and label == "by sha256" else None,
                note="target on SQLite",
            )
        )


def export(client, size: int) -> None:
    # A fresh process: this one's heap already grew for the lists above.
    output = run_process([PYTHON, "-m", "bench.curation_export"])
    line = next(line for line in output.splitlines() if line.startswith("EXPORT "))
    result = json.loads(line[len("EXPORT ") :])
    above_idle = result["peak"] - result["idle"]

    def download() -> int:
        response = client.get("/api/models/export", {"format": "csv"})
        return sum(len(chunk) for chunk in response.streaming_content)

    with peak_memory() as traced:
        download()
    emit(
        Row(
            benchmark=f"CSV export of {size:,} models ({result['bytes'] / 1e6:.1f} MB), "
            "fresh process",
            measured=f"peak RSS +{above_idle:.1f} MiB over idle ({result['idle']:.0f} MiB), "
            f"tracemalloc peak {traced['peak_mib']:.1f} MiB, {result['seconds']:.2f} s",
            limit="64 MiB over idle",
            ratio=above_idle / 64,
            op="<=",
            target=1.0,
        )
    )


if __name__ == "__main__":
    main()
