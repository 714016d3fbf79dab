"""Job kind of library health: verify. Runs the same service as the route and the command."""

from __future__ import annotations

from typing import Any

from config.progress import Progress
from jobs.kinds import JobKind, register_kind
from library.serializers import VerifyRequestSerializer
from library.services.verify import library_verify


def verify_job(*, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    # Resumes by running again: a verify only records what it finds, and what an
    # earlier attempt recorded is then found unchanged.
    return library_verify(progress=progress).as_dict()


register_kind(
    JobKind(
        name="verify",
        params=VerifyRequestSerializer,
        run=verify_job,
        unit="files",
        dedupe=True,
        description="Stat every location and pending file; mark missing, restored, changed.",
    )
)
