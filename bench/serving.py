"""Requests per second of ``GET /api/models?type=T&limit=50`` over 10,000 models, by server.

The production server (``manage.py serve``: gunicorn with WEB_CONCURRENCY=2
workers and the embedded job worker, what ``bin/serve`` runs) against Django's
runserver (``runserver --noreload``: threaded, one process; without the
reloader, which would poll every source file). Each serves the same database
over HTTP on a loopback port; a client of a few threads in this process sends
requests for a fixed time, a new connection per request. DEBUG is off.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import threading
import time

from bench.common import PYTHON, REPO, Row, bench_dir, django_ready, emit, parse_args
from bench.generate import catalog_rows

MODEL_TYPE = "loras"
PATH = f"/api/models?type={MODEL_TYPE}&limit=50"
CLIENTS = 4


def main() -> None:
    args = parse_args(__doc__)
    django_ready()
    size = 2_000 if args.quick else 10_000
    seconds = 3.0 if args.quick else 10.0
    catalog_rows(count=size, model_type=MODEL_TYPE)
    catalog_rows(count=size // 10, model_type="checkpoints")
    servers = {
        "gunicorn": lambda port: [PYTHON, "manage.py", "serve"],
        "runserver": lambda port: [
            PYTHON,
            "manage.py",
            "runserver",
            "--noreload",
            f"127.0.0.1:{port}",
        ],  # fmt: skip
    }
    best = {name: 0.0 for name in servers}
    latency: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, command in servers.items():
            rate, p95 = _measure(command, seconds)
            if rate > best[name]:
                best[name], latency[name] = rate, p95
    emit(
        Row(
            benchmark=f"serving GET {PATH}, {size:,} models, {CLIENTS} clients",
            measured=f"gunicorn (2 workers) {best['gunicorn']:,.0f} req/s "
            f"(p95 {latency['gunicorn'] * 1000:.0f} ms)",
            limit=f"runserver {best['runserver']:,.0f} req/s "
            f"(p95 {latency['runserver'] * 1000:.0f} ms)",
            ratio=best["gunicorn"] / best["runserver"],
            note="requests/s of gunicorn over runserver; the client threads share the "
            "machine's cores with the server",
        )
    )


def _measure(command, seconds: float) -> tuple[float, float]:
    """Start the server, load it for ``seconds``, stop it; (requests/s, p95 latency)."""
    port = _free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "2"}
    env["JOBS_WORKER_ID"] = f"bench-{port}"
    log = open(bench_dir("serving") / f"server-{port}.log", "wb")  # noqa: SIM115
    server = subprocess.Popen(
        command(port), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: gunicorn's workers stop with it
    )  # fmt: skip
    try:
        _wait_ready(port, server)
        _load(port, 1.0)  # warm-up: every worker imports and connects
        done, durations = _load(port, seconds)
    finally:
        _stop(server)
        log.close()
    durations.sort()
    return done / seconds, durations[int(0.95 * (len(durations) - 1))]


def _load(port: int, seconds: float) -> tuple[int, list[float]]:
    durations: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    def client() -> None:
        while time.monotonic() < deadline:
            began = time.perf_counter()
            try:
                status = _get(port)
            except OSError as exc:
                status = f"{type(exc).__name__}: {exc}"
            if status != 200:
                errors.append(str(status))
                return
            durations.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(f"the server answered {errors[0]} to GET {PATH}")
    return len(durations), durations


def _get(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", PATH, headers={"Host": "localhost", "Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _wait_ready(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120  # a loaded machine starts gunicorn slowly
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode} before answering")
        try:
            if _get(port) == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not answer within 120 s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


if __name__ == "__main__":
    main()
