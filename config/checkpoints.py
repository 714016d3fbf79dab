"""Named moments inside multi-step writes, announced as a Django signal.

Services call ``checkpoint("name")`` where a crash would hurt most: between two
writes that must go together (the two UPDATEs of a seq shift, a rendition
written but not yet moved into place). The service itself never listens, and
sending a signal nobody is connected to costs one attribute check, so in
production a checkpoint does nothing at all.

The crash-safety tests connect a receiver that kills the process there, like a
power cut: ``tests_hardening/faults.py``, installed only by the test-only
settings module ``tests_hardening.fault_settings``. No production setting or
environment variable can turn it on.
"""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``name``: the checkpoint's name, e.g. "rendition_write".
checkpoint_reached = Signal()


def checkpoint(name: str) -> None:
    """Announce that the running write has reached the checkpoint ``name``."""
    checkpoint_reached.send(sender=None, name=name)
