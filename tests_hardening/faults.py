"""Fault injection for the crash-safety tests (test-only: never installed in production).

Services announce ``config.checkpoints.checkpoint("name")`` at the moments
where a crash would hurt most. ``install`` connects a receiver that, when the
environment variable ``FAULT_POINT`` names that checkpoint, kills the process
with SIGKILL, exactly like a power cut or the OOM killer: no ``finally``,
``atexit`` or transaction rollback code runs.

``FAULT_POINT=name`` kills at the first pass; ``FAULT_POINT=name:3`` at the
third pass through that point (to crash in the middle of a loop).

Only the test settings module ``tests_hardening.fault_settings`` calls
``install``; ``Instance.manage(..., fault=...)`` runs a command with it.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

from config.checkpoints import checkpoint_reached

_passes: Counter[str] = Counter()


def kill_at_fault_point(sender, name: str, **kwargs) -> None:
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


def install() -> None:
    checkpoint_reached.connect(kill_at_fault_point, dispatch_uid="tests_hardening.faults")
