"""How long-running services report progress, without knowing who listens."""

from __future__ import annotations

from typing import Protocol


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
