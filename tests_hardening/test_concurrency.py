"""Concurrency under a real multi-process server: gunicorn, 4 workers.

A threaded client sends uploads, deletes, tags_add and promotions for the
same few models at once (on SQLite by default, on PostgreSQL when
DATABASE_URL is set). Afterwards the data must be what a one-at-a-time
server would have produced: contiguous seqs, every image counted once, one
tag per name, each pending model promoted at most once, and no 5xx or
"database is locked" anywhere.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from imaging.tests.pictures import picture
from tests_hardening.counts import COUNTS
from tests_hardening.instance import instance

pytestmark = pytest.mark.heavy

MODELS = [f"{index:064x}" for index in (1, 2, 3)]
SEEDED_IMAGES = 8  # more than the deletes: these only ever delete seeded images
UPLOADS_PER_MODEL = 15
DELETES_PER_MODEL = 6
TAG_REQUESTS = 16
PROMOTION_REPEATS = 3
THREADS = 12

SEED = """
from catalog.models import CatalogModel
from imaging.services import sample_image_add
from migration_app.models import PendingModel
from tests_hardening.test_concurrency import seeded_picture

for number, sha in enumerate({models!r}):
    model = CatalogModel.objects.create(
        sha256=sha, name=f"model {{number}}", type="loras", path=f"/m/{{number}}.safetensors"
    )
    for seq in range({seeded}):
        sample_image_add(model=model, content=seeded_picture(number, seq), file_name="s.png")
for path in {pending!r}:
    PendingModel.objects.create(path=path, name=path.rsplit("/", 1)[-1], type="loras")
"""


def seeded_picture(model_index: int, seq: int) -> bytes:
    return picture(color=(model_index, seq, 7))


def uploaded_picture(model_index: int, upload: int) -> bytes:
    return picture(size=(48, 32), color=(model_index, upload, 99))


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def pending_files(folder) -> list[str]:
    """Six staged files; two pairs share their bytes (the same model twice)."""
    folder.mkdir(parents=True)
    contents = [b"twin A", b"twin A", b"twin B", b"twin B", b"single C", b"single D"]
    paths = []
    for index, content in enumerate(contents):
        path = folder / f"p{index}.safetensors"
        path.write_bytes(content * 1000)
        paths.append(str(path))
    return paths


def planned_requests(url: str) -> list[tuple[str, str, dict]]:
    plan: list[tuple[str, str, dict]] = []
    for model_index, sha in enumerate(MODELS):
        for upload in range(UPLOADS_PER_MODEL):
            content = uploaded_picture(model_index, upload)
            plan.append(
                (
                    "post",
                    f"{url}/api/images/upload",
                    {"data": {"sha256": sha}, "files": {"image": ("x.png", content)}},
                )
            )
        for _ in range(DELETES_PER_MODEL):
            plan.append(("delete", f"{url}/api/images/delete?sha256={sha}&seq=0", {}))
        plan.append(("get", f"{url}/api/images/get_img_num?sha256={sha}", {}))
        plan.append(("post", f"{url}/api/images/get_sample_imgs", {"json": {"sha256": sha}}))
        plan.append(("get", f"{url}/api/images/{sha}_0.webp?quality=low", {}))
    for index in range(TAG_REQUESTS):
        names = ["Alpha", "alpha", "ALPHA ", "beta", f"shared-{index % 3}", f"Shared-{index % 3}"]
        plan.append(("post", f"{url}/api/tags_add", {"json": {"newtags": names}}))
    for _ in range(PROMOTION_REPEATS):
        for pending_id in range(1, 7):
            body = {"id": [pending_id], "conflict_strategy": None}
            plan.append(("post", f"{url}/api/migration/import_models", {"json": body}))
    plan.append(("get", f"{url}/api/models?type=loras", {}))
    # Interleave the kinds so that every kind runs against every other.
    return plan[::2] + plan[1::2]


def send(method: str, url: str, kwargs: dict) -> tuple[int, dict | None, str]:
    response = requests.request(method, url, timeout=120, **kwargs)
    body = response.json() if "json" in response.headers.get("Content-Type", "") else None
    return response.status_code, body, response.text


def test_parallel_writes_keep_the_data_consistent(tmp_path):
    with instance(tmp_path) as inst:
        pending = pending_files(tmp_path / "models")
        inst.run_python(SEED.format(models=MODELS, seeded=SEEDED_IMAGES, pending=pending))
        with inst.serve(workers=4) as url:
            plan = planned_requests(url)
            with ThreadPoolExecutor(THREADS) as pool:
                results = list(pool.map(lambda item: (item, send(*item)), plan))
            COUNTS["parallel"] += len(results)
        state = inst.query("__import__('tests_hardening.consistency').consistency.report()")
        log = inst.server_log

    statuses = [status for _, (status, _, _) in results]
    assert all(status < 500 for status in statuses), [
        (item[:2], text[:300]) for item, (status, _, text) in results if status >= 500
    ]
    texts = "".join(text for _, (_, _, text) in results) + log
    assert "database is locked" not in texts
    assert "Traceback" not in log, log[-3000:]

    # Images: every upload and every delete happened exactly once, seqs 0..n-1.
    uploads = [r for (m, u, _), r in results if u.endswith("/upload")]
    deletes = [r for (m, u, _), r in results if "/delete?" in u]
    assert {status for status, _, _ in uploads} == {201}
    assert {status for status, _, _ in deletes} == {200}
    expected = SEEDED_IMAGES + UPLOADS_PER_MODEL - DELETES_PER_MODEL
    assert state["seqs"] == {**state["seqs"], **{sha: list(range(expected)) for sha in MODELS}}
    assert state["gaps"] == []
    # Deletes of seq 0 remove the oldest images, the seeded ones; every upload
    # is there once, after the seeded images left.
    left = SEEDED_IMAGES - DELETES_PER_MODEL
    for model_index, sha in enumerate(MODELS):
        kept, added = state["contents"][sha][:left], state["contents"][sha][left:]
        assert kept == [
            sha256_of(seeded_picture(model_index, seq))
            for seq in range(DELETES_PER_MODEL, SEEDED_IMAGES)
        ]
        assert sorted(added) == sorted(
            sha256_of(uploaded_picture(model_index, upload)) for upload in range(UPLOADS_PER_MODEL)
        )
    assert state["missing_files"] == [] and state["broken_renditions"] == []

    # Tags: one per name without regard to case.
    assert state["duplicate_tags"] == []
    assert {"alpha", "beta", "shared-0", "shared-1", "shared-2"} <= set(state["tags"])

    # Promotions: each pending model succeeded at most once; twins conflict.
    successes: dict[int, int] = {}
    for (_, u, _), (status, body, _) in results:
        if u.endswith("/import_models"):
            assert status == 207
            for pending_id in body["success"]:
                successes[pending_id] = successes.get(pending_id, 0) + 1
    assert all(count == 1 for count in successes.values()), successes
    promoted = {pending[pending_id - 1] for pending_id in successes}
    assert set(state["pending"]) == set(pending) - promoted
    # Two twins and two singles: four distinct files, so four new catalog models.
    assert len(successes) == 4
    assert len(state["models"]) == len(MODELS) + 4
