"""Several machines, simulated on one: PostgreSQL, Redis (RQ), an S3 server (moto), two
service processes on two ports with data folders of their own, and two job workers.

What one service writes the other serves; jobs submitted to either are run by both workers;
a lost worker's job is finished by the other; a bounded load run over both services leaves
a consistent catalog. Needs PostgreSQL (DATABASE_URL); `.ci/run` runs it as its own stage.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import threading
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests

from imaging.tests.pictures import picture
from imaging.tests.s3 import CREDENTIALS, bucket_keys, s3_bucket, s3_endpoint  # noqa: F401
from tests_hardening.instance import Instance
from tests_hardening.services import bin_serve, children_of, redis_server
from tests_hardening.test_jobs_processes import print_logs, wait_for

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL"), reason="several machines share PostgreSQL"
    ),
]

BIG_FILES = 4
BIG_SIZE = 1 << 30  # sparse
LOAD_SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
LOAD_CLIENTS = 16


class Cluster:
    def __init__(self, services: list, workers: dict, folder: Path):
        self.services = services
        self.urls = [service.url for service in services]
        self.workers = workers
        self.folder = folder

    def call(self, index: int, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.urls[index % 2] + path, timeout=120, **kwargs)

    def job(self, job_id: int) -> dict:
        return self.call(0, "GET", f"/api/jobs/{job_id}").json()

    def submit(self, index: int, kind: str, params: dict | None = None) -> dict:
        response = self.call(
            index, "POST", "/api/jobs", json={"kind": kind, "params": params or {}}
        )
        assert response.status_code in (200, 202), response.text
        return response.json()

    def wait_finished(self, job_id: int) -> dict:
        return wait_for(
            lambda: (job := self.job(job_id))["state"] not in ("queued", "running") and job,
            timeout=300,
            what=f"job {job_id} to finish",
        )

    def kill_worker(self, name: str) -> None:
        """The machine is lost: the worker and its work-horses die at once."""
        pid = self.workers[name].process.pid
        horses = children_of(pid)
        os.killpg(pid, signal.SIGKILL)
        for horse in horses:
            try:
                os.kill(horse, signal.SIGKILL)
            except ProcessLookupError:
                pass


@contextmanager
def cluster(tmp_path: Path, endpoint: str, bucket: str):
    models = tmp_path / "models" / "loras"
    models.mkdir(parents=True)
    for index in range(BIG_FILES):
        with open(models / f"big_{index}.safetensors", "wb") as handle:
            handle.truncate(BIG_SIZE + index)
    inst = Instance(tmp_path / "machine-a")
    shared = {
        **inst.env,
        "MODEL_ROOTS": f"loras={models}",
        "SECRET_KEY": "one secret for every machine of the cluster",
        "JOBS_BACKEND": "rq",
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": CREDENTIALS["access_key"],
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["secret_key"],
        "JOBS_STALE_SECONDS": "4",
        "JOBS_HEARTBEAT_SECONDS": "1",
        "WEB_CONCURRENCY": "3",
    }
    try:
        with ExitStack() as stack:
            shared["REDIS_URL"] = stack.enter_context(redis_server(tmp_path / "redis"))
            services = []
            for name in ("a", "b"):  # one after the other: the first start migrates
                env = {**shared, "DATA_DIR": str(tmp_path / f"machine-{name}")}
                services.append(
                    stack.enter_context(bin_serve(env, log=tmp_path / f"web-{name}.log"))
                )
            workers = {}
            for name in ("w1", "w2"):
                env = {
                    **shared,
                    "DATA_DIR": str(tmp_path / f"machine-{name}"),
                    "JOBS_WORKER_ID": name,
                }
                workers[name] = stack.enter_context(
                    bin_serve(env, "--worker", log=tmp_path / f"{name}.log", wait=False)
                )
            try:
                yield Cluster(services, workers, tmp_path)
            except BaseException:
                print_logs(tmp_path)
                raise
            for name in ("a", "b", "w1", "w2"):
                media = tmp_path / f"machine-{name}" / "media"
                files = [p for p in media.rglob("*") if p.is_file()] if media.exists() else []
                assert files == [], f"machine {name} wrote media files locally: {files[:3]}"
    finally:
        inst.drop()


def upload(cluster: Cluster, index: int, sha256: str, content: bytes) -> requests.Response:
    return cluster.call(
        index,
        "POST",
        "/api/images/upload",
        data={"sha256": sha256},
        files={"image": ("sample.png", content)},
    )


def test_two_services_and_two_workers_share_one_catalog(tmp_path, s3_endpoint, s3_bucket):  # noqa: F811
    with cluster(tmp_path, s3_endpoint, s3_bucket) as machines:
        scan = machines.call(0, "POST", "/api/models/scan", json={})
        assert scan.status_code == 200 and scan.json()["pending_added"] == BIG_FILES
        # A long hash job on service A keeps one worker busy...
        hashing = machines.submit(0, "hash", {"workers": 1})
        busy = wait_for(
            lambda: (
                (job := machines.job(hashing["id"]))["state"] == "running"
                and job["progress"]["done"] > 0
                and job
            ),
            what="the hash job to run",
        )["worker"]
        # ... so a job submitted to service B is run by the other one.
        rebuild = machines.wait_finished(machines.submit(1, "rebuild_renditions")["id"])
        assert rebuild["state"] == "succeeded"
        assert {busy, rebuild["worker"]} == {"w1", "w2"}, "both workers did work"

        machines.kill_worker(busy)
        hashed = machines.wait_finished(hashing["id"])
        assert hashed["state"] == "succeeded", hashed
        assert hashed["worker"] != busy and hashed["attempts"] == 2

        pending = machines.call(1, "GET", "/api/migration/pending_models").json()["models"]
        promote = machines.submit(1, "promote", {"id": [item["id"] for item in pending]})
        promoted = machines.wait_finished(promote["id"])
        assert promoted["state"] == "succeeded" and len(promoted["result"]["success"]) == BIG_FILES

        # An upload through A is served by B: same bytes, type and ETag; 304 on B.
        sha = machines.call(0, "GET", "/api/models?type=loras").json()["models"][0]["sha256"]
        assert upload(machines, 0, sha, picture(color=(1, 2, 3))).status_code == 201
        first = machines.call(0, "GET", f"/api/images/{sha}_0.webp?quality=medium")
        second = machines.call(1, "GET", f"/api/images/{sha}_0.webp?quality=medium")
        assert first.status_code == second.status_code == 200
        assert first.content == second.content and second.headers["Content-Type"] == "image/webp"
        assert first.headers["ETag"] == second.headers["ETag"]
        again = machines.call(
            1,
            "GET",
            f"/api/images/{sha}_0.webp?quality=medium",
            headers={"If-None-Match": second.headers["ETag"]},
        )
        assert again.status_code == 304
        assert bucket_keys(s3_endpoint, s3_bucket), "the images are in the bucket"
        assert machines.call(1, "GET", "/api/jobs?state=running").json()["total"] == 0


def test_bounded_load_over_both_services_leaves_a_consistent_catalog(
    tmp_path,
    s3_endpoint,  # noqa: F811
    s3_bucket,  # noqa: F811
):
    with cluster(tmp_path, s3_endpoint, s3_bucket) as machines:
        machines.call(0, "POST", "/api/models/scan", json={})
        pending = machines.call(0, "GET", "/api/migration/pending_models").json()["models"]
        body = {"id": [item["id"] for item in pending]}
        assert (
            machines.call(1, "POST", "/api/migration/import_models", json=body).status_code == 207
        )
        models = [
            item["sha256"]
            for item in machines.call(0, "GET", "/api/models?type=loras").json()["models"]
        ]
        ledger = Ledger()
        deadline = time.monotonic() + LOAD_SECONDS
        threads = [
            threading.Thread(target=client, args=(machines, models, ledger, number, deadline))
            for number in range(LOAD_CLIENTS)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        print_load_table(ledger, elapsed)

        assert ledger.server_errors == [], ledger.server_errors[:5]
        wait_for(
            lambda: (
                machines.call(0, "GET", "/api/jobs?state=running").json()["total"] == 0
                and machines.call(0, "GET", "/api/jobs?state=queued").json()["total"] == 0
            ),
            timeout=300,
            what="the queue to drain",
        )
        assert machines.call(0, "GET", "/api/jobs?state=failed").json()["total"] == 0
        for index, sha in enumerate(models):
            count = machines.call(index, "GET", f"/api/images/get_img_num?sha256={sha}").json()[
                "count"
            ]
            assert count == ledger.uploads[sha] - ledger.deletes[sha], sha
            images = machines.call(
                index + 1, "POST", "/api/images/get_sample_imgs", json={"sha256": sha}
            ).json()["images"]
            seqs = [int(url.split("_")[-1].split(".")[0]) for url in images]
            assert seqs == list(range(count)), "seqs are contiguous"
            detail = machines.call(index, "GET", f"/api/models/{sha}").json()
            if ledger.names[sha]:  # the name is one a client was told it set
                assert detail["name"] in ledger.names[sha]
        tags = {tag["name"].lower() for tag in machines.call(1, "GET", "/api/tags").json()["tags"]}
        assert ledger.tags <= tags, "every acknowledged tag is there"


class Ledger:
    """What the clients were told: every acknowledged write, every answer's time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.server_errors: list[str] = []
        self.uploads: dict[str, int] = defaultdict(int)
        self.deletes: dict[str, int] = defaultdict(int)
        self.names: dict[str, set[str]] = defaultdict(set)
        self.tags: set[str] = set()

    def record(self, route: str, seconds: float, response: requests.Response) -> None:
        with self.lock:
            self.times[route].append(seconds)
            if response.status_code >= 500:
                self.server_errors.append(f"{route}: {response.status_code} {response.text[:200]}")


def client(machines: Cluster, models: list[str], ledger: Ledger, number: int, deadline: float):
    chooser = random.Random(number)
    counter = 0
    while time.monotonic() < deadline:
        counter += 1
        side = chooser.randrange(2)
        sha = chooser.choice(models)
        action = chooser.choices(
            ["upload", "delete", "patch", "tags_add", "list", "job"], weights=[3, 1, 2, 2, 6, 1]
        )[0]
        started = time.perf_counter()
        if action == "upload":
            content = picture(size=(40, 30), color=(number, counter % 256, counter // 256 % 256))
            response = upload(machines, side, sha, content)
            if response.status_code == 201:
                with ledger.lock:
                    ledger.uploads[sha] += 1
        elif action == "delete":
            response = machines.call(side, "DELETE", f"/api/images/delete?sha256={sha}&seq=0")
            if response.status_code == 200:
                with ledger.lock:
                    ledger.deletes[sha] += 1
        elif action == "patch":
            name = f"renamed by {number}.{counter}"
            response = machines.call(side, "PATCH", f"/api/models/{sha}", json={"name": name})
            if response.status_code == 200:
                with ledger.lock:
                    ledger.names[sha].add(name)
        elif action == "tags_add":
            name = f"load-{number}-{counter % 7}"
            response = machines.call(side, "POST", "/api/tags_add", json={"newtags": [name]})
            if response.status_code == 200:
                with ledger.lock:
                    ledger.tags.add(name.lower())
        elif action == "list":
            response = machines.call(side, "GET", "/api/models?type=loras&limit=50")
        else:
            kind = chooser.choice(["scan", "rebuild_renditions"])
            response = machines.call(side, "POST", "/api/jobs", json={"kind": kind, "params": {}})
        ledger.record(action, time.perf_counter() - started, response)


def print_load_table(ledger: Ledger, elapsed: float) -> None:
    print(f"\nLoad: {LOAD_CLIENTS} clients, {elapsed:.0f} s, two services (PostgreSQL, S3, RQ)")
    print("| route | requests | requests/s | p95 |")
    print("| --- | --- | --- | --- |")
    for route, times in sorted(ledger.times.items()):
        p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
        print(f"| {route} | {len(times)} | {len(times) / elapsed:.1f} | {p95 * 1000:.0f} ms |")
