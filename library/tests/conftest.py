"""Fixtures of the library health tests: model folders a test changes as a user would.

``disk`` is the only thing in these tests that writes, moves or removes model
files, and it remembers what every file should hold. After each test it
checks every model file under the test's folders: the same set of paths, each
with the bytes and the modification time the test left it with. A service
that wrote, moved, touched or deleted a model file fails the test that ran it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from migration_app.services.model_walk import MODEL_EXTENSIONS


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def weights(label: str, size: int = 4096) -> bytes:
    """Distinct model bytes of a given size (the size matters to the relink)."""
    seed = hashlib.sha256(label.encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


class Disk:
    """Model folders under ``base``, changed only through these methods."""

    def __init__(self, base: Path):
        self.base = base
        self.expected: dict[str, tuple[str, int]] = {}

    def path(self, relative: str) -> str:
        return str(self.base / relative)

    def _remember(self, path: str) -> None:
        info = os.stat(path)
        with open(path, "rb") as handle:
            self.expected[path] = (digest(handle.read()), info.st_mtime_ns)

    def write(self, relative: str, content: bytes) -> str:
        path = self.path(relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(content)
        self._remember(path)
        return path

    def append(self, path: str, content: bytes) -> None:
        with open(path, "ab") as handle:
            handle.write(content)
        self._remember(path)

    def replace(self, path: str, content: bytes) -> None:
        """Other bytes at the same path (a re-download, an edit)."""
        with open(path, "wb") as handle:
            handle.write(content)
        self._remember(path)

    def touch(self, path: str) -> None:
        info = os.stat(path)
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
        self._remember(path)

    def move(self, source: str, relative: str) -> str:
        """A file or a whole folder renamed (paths of everything inside change)."""
        target = self.path(relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(source, target)
        for path in list(self.expected):
            if path == source or path.startswith(source.rstrip("/") + "/"):
                self.expected[target + path[len(source) :]] = self.expected.pop(path)
        return target

    def copy(self, source: str, relative: str) -> str:
        with open(source, "rb") as handle:
            return self.write(relative, handle.read())

    def hardlink(self, source: str, relative: str) -> str:
        target = self.path(relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.link(source, target)
        self.expected[target] = self.expected[source]
        return target

    def symlink(self, source: str, relative: str) -> str:
        target = self.path(relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.symlink(source, target)
        self.expected[target] = self.expected[source]
        return target

    def remove(self, path: str) -> None:
        os.remove(path)
        self.expected.pop(path, None)

    def model_files(self) -> dict[str, tuple[str, int]]:
        """Every model file under ``base`` now: path -> (sha256, mtime_ns)."""
        found = {}
        for folder, _, names in os.walk(self.base, followlinks=False):
            for name in names:
                path = os.path.join(folder, name)
                if os.path.splitext(name)[1].lower() not in MODEL_EXTENSIONS:
                    continue
                if not os.path.exists(path):
                    continue  # a dangling symlink the test made on purpose
                with open(path, "rb") as handle:
                    found[path] = (digest(handle.read()), os.stat(path).st_mtime_ns)
        return found


@pytest.fixture
def disk(tmp_path):
    disk = Disk(tmp_path / "disk")
    disk.base.mkdir()
    yield disk
    # The services only ever stat and read model files.
    assert disk.model_files() == disk.expected


@pytest.fixture
def roots(disk, settings):
    """Two model types, the loras on two drives."""
    for relative in ("models/loras", "models/checkpoints", "drive2/loras"):
        os.makedirs(disk.path(relative), exist_ok=True)
    settings.MODEL_ROOTS = {
        "loras": [disk.path("models/loras"), disk.path("drive2/loras")],
        "checkpoints": [disk.path("models/checkpoints")],
    }
    return disk


def catalog_add(*paths: str, strategy: str | None = None) -> list:
    """Scan, then promote every pending model; the promotion outcomes."""
    from migration_app.models import PendingModel
    from migration_app.services.folder_scan import folder_scan
    from migration_app.services.promotion import pending_models_promote

    folder_scan()
    ids = list(PendingModel.objects.filter(path__in=paths).values_list("pk", flat=True))
    return pending_models_promote(ids=ids, strategy=strategy)


def rows_per_path() -> dict[str, int]:
    """How many rows (locations and pending models) each path has: never more than one."""
    from collections import Counter

    from catalog.models import ModelLocation
    from migration_app.models import PendingModel

    counts = Counter(ModelLocation.objects.values_list("path", flat=True))
    counts.update(PendingModel.objects.values_list("path", flat=True))
    return dict(counts)
