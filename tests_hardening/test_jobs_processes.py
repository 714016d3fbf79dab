"""Jobs with real processes: bin/serve as the README starts it, the embedded worker or RQ
on a real Redis with two workers; progress, cancel, a killed worker, a stop mid-job.

Runs on the database of the test run (SQLite, or PostgreSQL with DATABASE_URL).
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests_hardening.instance import Instance
from tests_hardening.services import bin_serve, children_of, command_line, http, redis_server

pytestmark = pytest.mark.heavy

FILES = 6
FILE_SIZE = 1 << 30  # sparse: costs no disk, reads as zeros


def wait_for(predicate, *, timeout: float = 240, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Library:
    """A running service (web + workers) over a folder of large sparse model files."""

    def __init__(self, url: str, workers: dict, web):
        self.url = url
        self.workers = workers  # name -> Served (RQ) or {} (embedded worker inside web)
        self.web = web

    def job(self, job_id: int) -> dict:
        return http("GET", f"{self.url}/api/jobs/{job_id}")[1]

    def pending(self) -> list[dict]:
        """Full records (with sha256) of every pending model."""
        listing = http("GET", f"{self.url}/api/migration/pending_models")[1]["models"]
        return [
            http("GET", f"{self.url}/api/migration/pending_model?id={item['id']}")[1]
            for item in listing
        ]

    def start_hash_job(self) -> dict:
        status, body = http("POST", f"{self.url}/api/models/scan", {})
        assert status == 200 and body["pending_added"] == FILES, body
        status, job = http(
            "POST", f"{self.url}/api/jobs", {"kind": "hash", "params": {"workers": 1}}
        )
        assert status == 202, job
        return job

    def wait_running_with_progress(self, job_id: int) -> dict:
        return wait_for(
            lambda: (
                (job := self.job(job_id))["state"] == "running"
                and job["progress"]["done"] > 0
                and job
            ),
            what="the job to run and advance",
        )

    def wait_finished(self, job_id: int, timeout: float = 300) -> dict:
        return wait_for(
            lambda: (job := self.job(job_id))["state"] not in ("queued", "running") and job,
            timeout=timeout,
            what="the job to finish",
        )


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "loras"
    folder.mkdir()
    for index in range(FILES):
        with open(folder / f"big_{index}.safetensors", "wb") as handle:
            handle.truncate(FILE_SIZE + index)
    return folder


def service_env(tmp_path: Path, inst: Instance) -> dict:
    return {
        **inst.env,
        "MODEL_ROOTS": f"loras={model_folder(tmp_path)}",
        "JOBS_STALE_SECONDS": "4",
        "JOBS_HEARTBEAT_SECONDS": "1",
        "STOP_GRACE_SECONDS": "8",
        "WEB_CONCURRENCY": "2",
    }


@contextmanager
def running_library(tmp_path: Path, engine: str):
    inst = Instance(tmp_path / "data")
    env = service_env(tmp_path, inst)
    try:
        with ExitStack() as stack:
            workers = {}
            if engine == "rq":
                url = stack.enter_context(redis_server(tmp_path / "redis"))
                env.update(JOBS_BACKEND="rq", REDIS_URL=url)
            web = stack.enter_context(bin_serve(env, log=tmp_path / "web.log"))
            if engine == "rq":
                for name in ("w1", "w2"):
                    workers[name] = stack.enter_context(
                        bin_serve(
                            {**env, "JOBS_WORKER_ID": name},
                            "--worker",
                            log=tmp_path / f"{name}.log",
                            wait=False,
                        )
                    )
            try:
                yield Library(web.url, workers, web)
            except BaseException:
                print_logs(tmp_path)
                raise
    finally:
        inst.drop()


def print_logs(folder: Path) -> None:
    """The end of every process log, shown by pytest for a failed test."""
    for log in sorted(folder.glob("*.log")):
        print(f"---- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))


def embedded_worker_pid(web) -> int:
    return wait_for(
        lambda: next(
            (pid for pid in children_of(web.process.pid) if "jobs_worker" in command_line(pid)),
            None,
        ),
        what="the embedded worker process",
    )


@pytest.mark.parametrize("engine", ["db", "rq"])
def test_progress_rises_then_cancel_stops_at_an_item_and_keeps_it(tmp_path, engine):
    with running_library(tmp_path, engine) as library:
        job = library.start_hash_job()
        first = library.wait_running_with_progress(job["id"])
        assert first["progress"]["unit"] == "bytes"
        assert first["progress"]["total"] == FILES * FILE_SIZE + sum(range(FILES))
        rising = wait_for(
            lambda: (
                (now := library.job(job["id"]))["progress"]["done"] > first["progress"]["done"]
                and now
            ),
            what="progress to rise",
        )
        assert rising["state"] == "running"
        status, cancelled = http("POST", f"{library.url}/api/jobs/{job['id']}/cancel")
        assert status == 200 and cancelled["cancel_requested"] is True
        done = library.wait_finished(job["id"])
        assert done["state"] == "cancelled", done
        hashed = [item for item in library.pending() if item.get("sha256")]
        assert 2 <= len(hashed) < FILES  # what finished before the cancel was kept
        assert done["progress"]["done"] < done["progress"]["total"]
        if engine == "rq":
            assert done["worker"] in ("w1", "w2")


@pytest.mark.parametrize("engine", ["db", "rq"])
def test_killed_worker_mid_job_is_taken_up_again_and_finishes(tmp_path, engine):
    with running_library(tmp_path, engine) as library:
        job = library.start_hash_job()
        running = library.wait_running_with_progress(job["id"])
        if engine == "rq":
            # The machine is lost: the worker and its work-horse (RQ gives the
            # horse a session of its own) die at once.
            victim = library.workers[running["worker"]].process.pid
            horses = children_of(victim)
            os.killpg(victim, signal.SIGKILL)
            for horse in horses:
                os.kill(horse, signal.SIGKILL)
        else:
            os.killpg(embedded_worker_pid(library.web), signal.SIGKILL)
        finished = library.wait_finished(job["id"], timeout=300)
        assert finished["state"] == "succeeded", finished
        assert finished["attempts"] == 2
        assert finished["result"]["failed"] == []
        assert all(item.get("sha256") for item in library.pending())
        if engine == "rq":
            assert finished["worker"] != running["worker"]  # the other worker finished it
        else:
            assert "restarting it" in library.web.output


def test_serve_stop_mid_job_stops_everything_and_the_next_start_finishes_it(tmp_path):
    inst = Instance(tmp_path / "data")
    env = service_env(tmp_path, inst)
    try:
        with bin_serve(env, log=tmp_path / "first.log") as web:
            job = Library(web.url, {}, web).start_hash_job()
            Library(web.url, {}, web).wait_running_with_progress(job["id"])
            family = children_of(web.process.pid)
            family += [pid for child in family for pid in children_of(child)]
            started = time.monotonic()
            assert web.stop() == 0
            assert time.monotonic() - started < 20  # bounded grace, not the job's length
            assert not [pid for pid in family if Path(f"/proc/{pid}").exists()], "left behind"
        with bin_serve({**env, "PORT": ""}, log=tmp_path / "second.log") as web:
            library = Library(web.url, {}, web)
            stopped = library.job(job["id"])
            assert stopped["state"] in ("queued", "running", "succeeded")
            finished = library.wait_finished(job["id"], timeout=300)
            assert finished["state"] == "succeeded", finished
            assert all(item.get("sha256") for item in library.pending())
    finally:
        inst.drop()
