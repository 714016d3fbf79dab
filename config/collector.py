"""Pausing Python's cyclic garbage collector while a bulk step builds many small objects.

A re-scan builds a tuple per file, 100,000 of them, and every 700 new objects
the collector runs; its full passes walk every object of the process (all of
Django's too), a fifth of a re-scan's time. Tuples of strings and numbers make
no cycles, so nothing waits for the collector meanwhile: reference counting
frees them as before.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic collection inside the block (process-wide, as ``gc.disable`` is).

    Only the block that found the collector enabled enables it again, so
    nested or concurrent blocks never leave it off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
