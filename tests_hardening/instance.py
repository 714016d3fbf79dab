"""A throw-away installation of the service for multi-process tests.

Each ``Instance`` has its own DATA_DIR (media, secret key, SQLite file) and,
when the test run uses PostgreSQL (DATABASE_URL set), its own PostgreSQL
database, created here and dropped afterwards. Commands run in subprocesses
exactly as an operator runs them (``manage.py ...``), and ``serve`` starts
gunicorn on a free loopback port.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))


def _postgres_admin(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


class Instance:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("FAULT_POINT", None)
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.base_url = os.environ.get("DATABASE_URL", "").strip()
        self.database_name = ""
        if self.base_url:
            self.database_name = f"hardening_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            with _postgres_admin(self.base_url) as conn:
                conn.execute(f'CREATE DATABASE "{self.database_name}"')
            parts = urlsplit(self.base_url)
            self.env["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + self.database_name))
        else:
            self.env.pop("DATABASE_URL", None)

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_name else "sqlite"

    @property
    def media(self) -> Path:
        return self.data_dir / "media"

    def drop(self) -> None:
        if not self.database_name:
            return
        with _postgres_admin(self.base_url) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [self.database_name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database_name}"')

    def manage(
        self, *args: str, fault: str | None = None, timeout: float = 300, check: bool = True
    ) -> subprocess.CompletedProcess:
        """Run ``manage.py args``; with ``fault`` set, FAULT_POINT is set for it and
        the test-only settings that install the fault injection are used."""
        env = dict(self.env)
        if fault:
            env["FAULT_POINT"] = fault
            env["DJANGO_SETTINGS_MODULE"] = "tests_hardening.fault_settings"
        result = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def run_python(
        self, code: str, *, fault: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess:
        """Run Python code with Django set up (``manage.py shell -c``)."""
        return self.manage("shell", "--no-imports", "-c", code, fault=fault, check=check)

    def query(self, code: str):
        """Evaluate an expression in a fresh process and return it, through JSON."""
        wrapped = f"import json\nprint('@@' + json.dumps({code}))"
        out = self.run_python(wrapped).stdout
        line = next(line for line in out.splitlines() if line.startswith("@@"))
        return json.loads(line[2:])

    @contextmanager
    def serve(self, workers: int = 4):
        """gunicorn on 127.0.0.1 with ``workers`` processes; yields the base URL."""
        port = _free_port()
        log = open(self.data_dir / "gunicorn.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--timeout",
                "120",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, process)
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()

    @property
    def server_log(self) -> str:
        path = self.data_dir / "gunicorn.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/api/hello", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /api/hello in time")


@contextmanager
def instance(tmp_path: Path):
    """A migrated Instance in ``tmp_path``; its PostgreSQL database is dropped after."""
    inst = Instance(tmp_path / "data")
    try:
        inst.manage("migrate", "--no-input")
        yield inst
    finally:
        inst.drop()
