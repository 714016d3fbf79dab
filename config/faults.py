"""Fault injection for the crash-safety tests.

Services call ``fault_point("name")`` at the moments where a crash would hurt
most (between two writes that must go together). Nothing happens unless the
environment variable ``FAULT_POINT`` names that point: then the process kills
itself with SIGKILL, exactly like a power cut or the OOM killer, so no
``finally``, ``atexit`` or transaction rollback code runs.

``FAULT_POINT=name`` kills at the first pass; ``FAULT_POINT=name:3`` at the
third pass through that point (to crash in the middle of a loop).
Never set it in production.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_passes: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """SIGKILL this process if FAULT_POINT selects ``name`` (and this pass)."""
    wanted = os.environ.get("FAULT_POINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
