"""Real servers for the multi-process tests: bin/serve as the README runs it, and Redis.

Redis comes from Debian's redis-server package, installed here when missing
(CI may run on a fresh machine); it listens on a free loopback port and keeps
nothing on disk.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests_hardening.instance import ROOT, _free_port, _wait_until_up


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
    subprocess.run(["apt-get", "update", "-q"], **quiet)
    subprocess.run(["apt-get", "install", "-y", "-q", "redis-server"], **quiet)
    return shutil.which("redis-server") or "/usr/bin/redis-server"


@contextmanager
def redis_server(folder: Path):
    """A throw-away redis-server on a free loopback port; yields its URL."""
    port = _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            redis_server_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        else:
            raise AssertionError("redis-server did not answer in time")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Served:
    """A running ``bin/serve`` (or ``bin/serve --worker``) process and its log."""

    def __init__(self, process: subprocess.Popen, log: Path, url: str):
        self.process = process
        self.log = log
        self.url = url

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as a process manager or Ctrl-C stops it; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def bin_serve(env: dict, *args: str, log: Path, wait: bool = True):
    """Start ``bin/serve args`` with ``env`` (its own HOST/PORT); stop it afterwards."""
    port = int(env.get("PORT") or _free_port())
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            ["bin/serve", *args],
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: a test can kill it and its children
        )
    served = Served(process, log, f"http://127.0.0.1:{port}")
    try:
        if wait:
            _wait_until_up(served.url, process)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def http(method: str, url: str, body: dict | None = None) -> tuple[int, dict]:
    """One JSON request; (status, body)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def children_of(pid: int) -> list[int]:
    """Direct child process ids (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
