"""What each part of a deployment costs per 10,000 models (docs/deployment.md, sizing).

Database: the growth of the database for 10,000 catalog models (a fifth with three
tags and two image rows), their 10,000 hash-cache rows and 1,000 finished jobs.
Media: the stored bytes of one sample image (the original and its three WebP
renditions) for a 768x512 picture, times 10,000. Web worker: resident memory of
this process after serving the 10,000-model list. Printed only; no target.
"""

from __future__ import annotations

import os
import resource

from bench.common import Row, bench_dir, django_ready, emit, parse_args
from bench.generate import catalog_rows, pictures

MB = 1_000_000


def database_bytes() -> int:
    from django.conf import settings
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            return cursor.fetchone()[0]
    name = str(settings.DATABASES["default"]["NAME"])
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(name)


def main() -> None:
    parse_args(__doc__)
    django_ready()
    from django.core.files.storage import default_storage
    from django.test import Client

    from catalog.models import CatalogModel, FileHash
    from imaging.services import sample_image_add
    from jobs.models import Job

    count = 10_000
    before = database_bytes()
    catalog_rows(count=count, model_type="loras")
    FileHash.objects.bulk_create(
        [
            FileHash(path=f"/models/loras/m_{n:06d}.safetensors", size_bytes=n, mtime_ns=n,
                     sha256=f"{n:064x}")
            for n in range(count)
        ],
        batch_size=2000,
    )  # fmt: skip
    Job.objects.bulk_create(
        [Job(kind="hash", state="succeeded", params={"workers": 2}, result={"hashed": n})
         for n in range(1000)]
    )  # fmt: skip
    database = database_bytes() - before

    picture = pictures(bench_dir("sizing"), count=1)[0].read_bytes()
    model = CatalogModel.objects.first()
    image = sample_image_add(model=model, content=picture, file_name="sample.png")
    names = [image.original.name] + [image.rendition_name(q) for q in ("high", "medium", "low")]
    per_image = sum(default_storage.size(name) for name in names)

    response = Client(HTTP_HOST="localhost").get("/api/models?type=loras")
    assert response.status_code == 200
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    emit(Row("database growth per 10,000 models (+ hash cache, 1,000 jobs)",
             f"{database / MB:.1f} MB", "-", None))  # fmt: skip
    emit(Row("media per 10,000 models with one 768x512 sample image each",
             f"{per_image * count / MB:.0f} MB", f"{per_image / 1000:.0f} kB per image "
             "(original + 3 renditions)", None))  # fmt: skip
    emit(Row("web worker peak memory after the 10,000-model list", f"{rss / MB:.0f} MB",
             "-", None))  # fmt: skip


if __name__ == "__main__":
    main()
