"""How long-running services report progress, without knowing who listens.

Services take a ``Progress``; the API passes the silent default, commands pass
a ``TqdmProgress`` bar.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol

from tqdm import tqdm


class Progress(Protocol):
    """Receives the size of a job, then its advances (rows, files or bytes)."""

    def start(self, total: int | None) -> None: ...

    def advance(self, amount: int = 1) -> None: ...


class NullProgress:
    """The default listener: the API reports nothing while it works."""

    def start(self, total: int | None) -> None:
        pass

    def advance(self, amount: int = 1) -> None:
        pass


NULL_PROGRESS = NullProgress()


class TqdmProgress:
    """Shows a bar on stderr once the service announces its total; silent at verbosity 0."""

    def __init__(self, *, verbosity: int = 1, **options: Any):
        self.options = {"file": sys.stderr, "disable": verbosity == 0, **options}
        self.bar: tqdm | None = None

    def start(self, total: int | None) -> None:
        self.close()
        self.bar = tqdm(total=total, **self.options)

    def advance(self, amount: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(amount)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> TqdmProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def size_text(size: int) -> str:
    """A byte count in decimal units, as the progress bars show them: 0 B, 950 B, 2.0 GB."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("kB", "MB", "GB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
