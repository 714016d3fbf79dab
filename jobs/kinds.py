"""The registry of job kinds: adding a kind is one small module in the app that owns the work.

Each app's ``jobs.py`` calls ``register_kind`` from its ``AppConfig.ready()``;
this package imports no other app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers

from config.api import InvalidInput


class JobCancelled(Exception):
    """Raised by the progress listener at an item boundary once a user cancelled the job."""


class JobInterrupted(Exception):
    """Raised by the progress listener at an item boundary when the worker is stopping."""


@dataclass(frozen=True)
class JobKind:
    """One kind of job.

    ``params`` validates the submitted params (a 400 at submission when bad);
    ``run(params=..., progress=...)`` does the work through the same service the
    synchronous route and the command call, and returns the job's result (the
    synchronous route's body). ``dedupe``: a second identical job while one is
    queued or running answers the existing one. ``resumable``: after a lost
    worker the job is queued again (the service must skip what it already
    committed); otherwise it ends failed as interrupted. ``staff_only``: in
    token mode, submitting and cancelling need a staff user.
    """

    name: str
    params: type[serializers.Serializer]
    run: Callable[..., Any]
    unit: str = "items"
    dedupe: bool = False
    resumable: bool = True
    staff_only: bool = True
    description: str = ""


_KINDS: dict[str, JobKind] = {}


def register_kind(kind: JobKind) -> JobKind:
    if kind.unit not in ("files", "bytes", "rows", "items"):
        raise ValueError(f"Job kind {kind.name}: unknown progress unit {kind.unit!r}.")
    _KINDS[kind.name] = kind
    return kind


def registered_kinds() -> dict[str, JobKind]:
    return dict(sorted(_KINDS.items()))


def kind_get(name: Any) -> JobKind:
    """The kind called ``name``; InvalidInput (400) naming the known kinds otherwise."""
    kind = _KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        known = ", ".join(sorted(_KINDS))
        raise InvalidInput(
            f"Unknown job kind {name!r}; the kinds are {known}.",
            code="unknown_job_kind",
            fields={"kind": [f"Not a job kind: {name!r}."]},
        )
    return kind
