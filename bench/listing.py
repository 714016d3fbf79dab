"""GET /api/models?type=T through the test client vs one raw SQL query + json.dumps.

At two catalog sizes (a fifth of the models with 3 tags and 2 sample images):
wall time against the reference, the number of SQL queries (it must not grow)
and the peak Python memory of one request.
"""

from __future__ import annotations

import json

from bench.common import Row, best_of, django_ready, emit, parse_args, peak_memory
from bench.generate import catalog_rows

MODEL_TYPE = "loras"


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    queries: dict[int, int] = {}
    present = 0
    for size in sizes:
        catalog_rows(count=size - present, model_type=MODEL_TYPE, start=present)
        catalog_rows(count=size // 10, model_type="checkpoints", start=present // 10)
        present = size

        def api() -> bytes:
            response = client.get("/api/models", {"type": MODEL_TYPE})
            assert response.status_code == 200, response.content[:500]
            return response.content

        with CaptureQueriesContext(connection) as captured:
            body = api()
        queries[size] = len(captured)
        if json.loads(body) != json.loads(reference()):
            raise SystemExit("the API and the reference query disagree")
        ours, limit = best_of(args.repeat, api, reference)
        with peak_memory() as api_memory:
            api()
        with peak_memory() as reference_memory:
            reference()
        emit(
            Row(
                benchmark=f"list {size:,} models ({len(body) / 1e6:.1f} MB JSON)",
                measured=f"{ours:.3f} s, {queries[size]} queries, "
                f"peak {api_memory['peak_mib']:.0f} MiB",
                limit=f"raw SQL + json.dumps {limit:.3f} s, "
                f"peak {reference_memory['peak_mib']:.0f} MiB",
                ratio=ours / limit,
                op="<=",
                target=3.0,
            )
        )
    small, large = sizes
    emit(
        Row(
            benchmark="list query count",
            measured=f"{queries[large]} at {large:,}",
            limit=f"{queries[small]} at {small:,}",
            ratio=queries[large] / queries[small],
            op="<=",
            target=1.0,
            note="the same number of queries at both sizes",
        )
    )


def reference() -> bytes:
    """The same records from one query: a row per (model, tag), grouped here.

    Of the single-query shapes tried (tags as JSON aggregated per model in a
    correlated subquery or a joined GROUP BY), this flat join was the fastest
    on both databases: no JSON is built in SQL and parsed again here.
    """
    from django.db import connection

    from catalog.models import display_name_for

    records: list[dict] = []
    last = None
    with connection.cursor() as cursor:
        cursor.execute(_reference_sql(connection.vendor), [MODEL_TYPE])
        for sha, name, kind, path, size, created, images, tag_id, tag_name in cursor.fetchall():
            if sha != last:
                last, tags = sha, []
                records.append(
                    {
                        "sha256": sha,
                        "name": name or display_name_for(path),
                        "type": kind,
                        "path": path,
                        "size_bytes": size,
                        "created_at": created,
                        "images_count": images,
                        "tags": tags,
                    }
                )
            if tag_id is not None:
                tags.append({"id": tag_id, "name": tag_name})
    return json.dumps({"models": records}, ensure_ascii=False, separators=(",", ":")).encode()


def _reference_sql(vendor: str) -> str:
    """Image counts: a correlated subquery on SQLite, a joined aggregate on PostgreSQL
    (each the faster there)."""
    from catalog.models import CatalogModel
    from imaging.models import SampleImage
    from tags.models import Tag

    models = CatalogModel._meta.db_table
    links = CatalogModel.tags.through._meta.db_table
    tags = Tag._meta.db_table
    images = SampleImage._meta.db_table
    if vendor == "postgresql":
        count = "COALESCE(i.n, 0)"
        count_join = (
            f"LEFT JOIN (SELECT model_id, COUNT(*) AS n FROM {images} GROUP BY model_id) i "
            "ON i.model_id = m.sha256"
        )
    else:
        count = f"(SELECT COUNT(*) FROM {images} i WHERE i.model_id = m.sha256)"
        count_join = ""
    return (
        f"SELECT m.sha256, m.name, m.type, m.path, m.size_bytes, m.created_at, {count}, "
        f"t.id, t.name FROM {models} m {count_join} "
        f"LEFT JOIN {links} l ON l.catalogmodel_id = m.sha256 "
        f"LEFT JOIN {tags} t ON t.id = l.tag_id "
        "WHERE m.type = %s ORDER BY m.name, m.sha256, LOWER(t.name), t.id"
    )


if __name__ == "__main__":
    main()
