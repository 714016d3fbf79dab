"""manage.py serve [--dev | --worker]: what bin/serve runs once the database is migrated.

Default: gunicorn with WEB_CONCURRENCY workers on HOST:PORT plus, with the
embedded engine, a job worker; both restarted/stopped together. ``--dev``:
Django's runserver with reload instead of gunicorn. ``--worker``: only a job
worker for the configured engine (what a worker machine runs).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.env import env_int, env_str

MANAGE_PY = str(Path(settings.BASE_DIR) / "manage.py")


class Command(BaseCommand):
    help = (
        "Serve the API and the admin with gunicorn (WEB_CONCURRENCY workers on HOST:PORT) and "
        "run the embedded job worker beside it; SIGTERM or Ctrl-C stops everything it started."
    )

    def add_arguments(self, parser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--dev", action="store_true", help="runserver with reload.")
        mode.add_argument("--worker", action="store_true", help="Only a job worker.")

    def handle(self, *args, dev: bool, worker: bool, **options) -> None:
        host = env_str("HOST", "127.0.0.1")
        port = env_int("PORT", 8000, minimum=1)
        if worker:
            self._banner(host, port, "job worker only")
            os.execv(sys.executable, [sys.executable, MANAGE_PY, "jobs_worker"])
        web = self._web_command(host, port, dev)
        supervisor = Supervisor(stdout=self.stdout, grace=env_int("STOP_GRACE_SECONDS", 10))
        supervisor.add("web server", web, restart=False)
        if settings.JOBS_BACKEND == "db":
            worker_id = os.environ.get("JOBS_WORKER_ID") or f"{socket.gethostname()}-{port}"
            supervisor.add(
                "job worker",
                [sys.executable, MANAGE_PY, "jobs_worker", "--worker-id", worker_id[:64]],
                restart=True,
            )
        if (settings.WATCH or settings.RESCAN_MINUTES) and settings.MODEL_ROOTS:
            # Library health (docs/library-health.md): one watcher per deployment,
            # beside the web server, whichever job engine runs the work.
            watch = [sys.executable, MANAGE_PY, "watch"]
            if not settings.WATCH:
                watch.append("--rescan-only")
            supervisor.add("library watcher", watch, restart=True)
        self._banner(host, port, "runserver (reload)" if dev else "gunicorn")
        code = supervisor.run()
        if code:
            raise CommandError(f"The web server stopped with exit status {code}.")

    def _web_command(self, host: str, port: int, dev: bool) -> list[str]:
        if dev:
            return [sys.executable, MANAGE_PY, "runserver", f"{host}:{port}"]
        workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
        timeout = env_int("GUNICORN_TIMEOUT", 300, minimum=1)
        return [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "--workers", str(workers),
            "--timeout", str(timeout),
            "--graceful-timeout", "10",
            "--no-control-socket",  # several services may run on one machine
        ]  # fmt: skip

    def _banner(self, host: str, port: int, server: str) -> None:
        shown = f"[{host}]" if ":" in host else host
        roots = settings.MODEL_ROOTS
        engine = (
            f"RQ on {settings.REDIS_URL}"
            if settings.JOBS_BACKEND == "rq"
            else "embedded (database) worker"
        )
        lines = [
            f"Model library on http://{shown}:{port}/ ({server})",
            f"  data folder: {settings.DATA_DIR}",
            f"  database:    {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}",
            "  model roots: "
            + (
                "; ".join(f"{kind}={', '.join(folders)}" for kind, folders in sorted(roots.items()))
                or "none (set MODEL_ROOTS or COMFYUI_PATH)"
            ),
            f"  API auth:    {settings.API_AUTH}",
            f"  jobs:        {engine}",
            f"  watching:    {_watching(roots) if server != 'job worker only' else 'off here'}",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()


def _watching(roots: dict) -> str:
    """The banner's line on the library watcher (WATCH, RESCAN_MINUTES)."""
    parts = ["the model roots"] if settings.WATCH else []
    if settings.RESCAN_MINUTES:
        parts.append(f"a scan every {settings.RESCAN_MINUTES} min")
    if parts and not roots:
        return "off (WATCH and RESCAN_MINUTES need model roots)"
    return " and ".join(parts) or "off"


class Supervisor:
    """Starts child processes, restarts the ones marked restart, stops all on a signal.

    Each child gets its own process group so that a stop reaches its own
    children (gunicorn's workers) and a forced stop leaves nothing behind.
    """

    def __init__(self, *, stdout, grace: int):
        self.stdout = stdout
        self.grace = grace
        self.children: list[dict] = []
        self.stopping = False

    def add(self, name: str, command: list[str], *, restart: bool) -> None:
        self.children.append({"name": name, "command": command, "restart": restart})

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._stop_requested)
        for child in self.children:
            self._start(child)
        try:
            while not self.stopping:
                time.sleep(0.2)
                for child in self.children:
                    code = child["process"].poll()
                    if code is None or self.stopping:
                        continue
                    if not child["restart"]:
                        self.stdout.write(f"The {child['name']} stopped ({code}); stopping.")
                        self.stop()
                        return code
                    self.stdout.write(f"The {child['name']} stopped ({code}); restarting it.")
                    time.sleep(1)
                    self._start(child)
        finally:
            self.stop()
        return 0

    def _start(self, child: dict) -> None:
        child["process"] = subprocess.Popen(child["command"], start_new_session=True)

    def _stop_requested(self, signum: int, frame: object) -> None:
        self.stopping = True

    def stop(self) -> None:
        """SIGTERM to every child's group; SIGKILL whatever is left after the grace period.

        A job cut off by the SIGKILL is taken back by the next worker start
        (same worker id) or by any worker's sweep.
        """
        self.stopping = True
        running = [child["process"] for child in self.children if "process" in child]
        for process in running:
            self._signal(process, signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for process in running:
            self._signal(process, signal.SIGKILL)  # the group: gunicorn's workers too
            process.wait()

    @staticmethod
    def _signal(process: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass
