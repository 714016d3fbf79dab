"""A headless Chromium driven over the DevTools protocol, for the browser checks.

Debian's ``chromium`` is started with ``--remote-debugging-pipe``: commands go in
on its file descriptor 3 and answers and events come out of 4, as JSON messages
ended by a NUL byte. No WebSocket library and no Node are needed. The client
records every network answer of a page, so a test can say "no 404".
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,1000",
    "--remote-debugging-pipe",
]


def chromium_path() -> str | None:
    """Debian's chromium, installed with apt-get when missing and possible (root)."""
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"], env=env, check=False, timeout=1200
    )
    return shutil.which("chromium")


def _high_fd(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


@dataclass
class Answer:
    url: str
    status: int
    mime: str


@dataclass
class PageLoad:
    """What one navigation fetched, and what the page logged."""

    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    @property
    def bad(self) -> list[str]:
        """Every answer of 400 or more, and every request that failed outright."""
        return [f"{a.status} {a.url}" for a in self.answers if a.status >= 400] + self.failures


class Browser:
    """One Chromium process with one page; use as a context manager."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        # CHROMIUM_LOG=file keeps Chromium's own messages, for when it will not start.
        self._log = open(os.environ.get("CHROMIUM_LOG", os.devnull), "ab")  # noqa: SIM115
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        # Chromium's ends moved above 9: were one of them 3 or 4 already, the
        # shell's redirections below would overwrite it before using it.
        to_chrome_r, from_chrome_w = (_high_fd(to_chrome_r), _high_fd(from_chrome_w))
        # The shell puts the pipe ends on descriptors 3 and 4, where Chromium
        # expects them, then becomes Chromium.
        script = f'exec "$0" "$@" 3<&{to_chrome_r} 4>&{from_chrome_w}'
        self.process = subprocess.Popen(
            # bash, not sh: dash cannot redirect descriptors above 9.
            ["/bin/bash", "-c", script, executable, *FLAGS, f"--user-data-dir={self.profile}"],
            pass_fds=(to_chrome_r, from_chrome_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._answers: dict[int, queue.Queue] = {}
        self._lock = threading.Lock()
        self.events: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)

    # --- protocol -----------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        waiting = self._answers.get(message["id"])
                    if waiting is not None:
                        waiting.put(message)
                else:
                    self.events.put(message)

    def send(self, method: str, *, session: bool = False, timeout: float = 60, **params) -> Any:
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
            waiting: queue.Queue = queue.Queue()
            self._answers[message_id] = waiting
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        try:
            answer = waiting.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"Chromium did not answer {method} in {timeout} s") from None
        finally:
            with self._lock:
                self._answers.pop(message_id, None)
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer.get("result", {})

    # --- pages --------------------------------------------------------------

    def open(self, url: str, *, settle: float = 0.8, timeout: float = 60) -> PageLoad:
        """Navigate to ``url`` and wait for the load and for the network to go quiet."""
        self._drain()
        self.send("Page.navigate", session=True, url=url)
        return self.wait_for_load(settle=settle, timeout=timeout)

    def wait_for_load(self, *, settle: float = 0.8, timeout: float = 60) -> PageLoad:
        load = PageLoad()
        loaded = False
        pending: set[str] = set()
        deadline = time.monotonic() + timeout
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                if loaded and not pending and time.monotonic() - quiet_since >= settle:
                    return load
                continue
            method, params = event.get("method"), event.get("params", {})
            quiet_since = time.monotonic()
            if method == "Page.loadEventFired":
                loaded = True
            elif method == "Network.requestWillBeSent":
                pending.add(params["requestId"])
            elif method == "Network.responseReceived":
                response = params["response"]
                load.answers.append(
                    Answer(response["url"], int(response["status"]), response["mimeType"])
                )
            elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                pending.discard(params["requestId"])
                if method == "Network.loadingFailed" and not params.get("canceled"):
                    load.failures.append(f"failed: {params.get('errorText')}")
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                load.console_errors.append(params["entry"].get("text", ""))
            elif method == "Runtime.exceptionThrown":
                load.console_errors.append(str(params["exceptionDetails"].get("text")))
        raise AssertionError(f"the page did not finish loading in {timeout} s")

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", session=True, expression=expression, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JavaScript expression until it is truthy (e.g. a rendered element)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"{expression!r} stayed false for {timeout} s")

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", session=True, format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def _drain(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (AssertionError, OSError):
            pass
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
