"""Files of imaging rows: written atomically, removed with the rows they belong to.

Every file imaging writes (originals through ``TrackedImageField``, renditions
through ``write_file``) is reported to the innermost active
``files_removed_on_rollback`` block, so a block that fails removes the files
of rows its transaction rolled back. The stack is a context variable: each
thread (and each asyncio task) has its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage
from django.db import models
from django.db.models.fields.files import ImageFieldFile

from config.checkpoints import checkpoint

logger = logging.getLogger(__name__)

_written: ContextVar[list[tuple[Storage, str]] | None] = ContextVar(
    "imaging_files_written", default=None
)


def track_written(storage: Storage, name: str) -> None:
    """Remember a file just written, for the active rollback block if any."""
    written = _written.get()
    if written is not None:
        written.append((storage, name))


@contextlib.contextmanager
def files_removed_on_rollback() -> Iterator[None]:
    """Delete every imaging file written inside the block if the block raises.

    Wrap it around ``transaction.atomic()`` so that it sees the exception that
    rolled the transaction back. Blocks nest: files of an inner block that
    succeeded are removed when an outer block fails.
    """
    outer = _written.get()
    written: list[tuple[Storage, str]] = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            delete_quietly(storage, [name])
        raise
    finally:
        _written.reset(token)
    if outer is not None:
        outer.extend(written)


def delete_quietly(storage: Storage, names: Iterable[str]) -> None:
    """Delete files, logging (not raising) failures: a leftover file is harmless."""
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except Exception:
            logger.warning("Could not delete %s from storage", name, exc_info=True)


def write_file(storage: Storage, name: str, data: bytes) -> None:
    """Write ``data`` under ``name``, replacing any file there, never half-written.

    On local disk the bytes go to a temporary name first and are moved into
    place with one rename. Object storages write an object in one request, so
    a plain save is already atomic there.
    """
    if isinstance(storage, FileSystemStorage):
        temporary = storage.save(f"{name}.{uuid.uuid4().hex}.tmp", ContentFile(data))
        checkpoint("rendition_write")  # crash tests: written, not yet in place
        try:
            os.replace(storage.path(temporary), storage.path(name))
        except BaseException:
            delete_quietly(storage, [temporary])
            raise
    else:
        # django-storages backends overwrite by default; delete first for those
        # that do not, so the name is not suffixed.
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(data))
    track_written(storage, name)


class TrackedImageFieldFile(ImageFieldFile):
    def save(self, name, content, save=True):
        super().save(name, content, save=False)
        track_written(self.storage, self.name)
        if save:
            self.instance.save()


class TrackedImageField(models.ImageField):
    """An ImageField whose writes are seen by ``files_removed_on_rollback``.

    It deconstructs as a plain ImageField: the database column is the same, so
    migrations (imaging's and those of subclasses in other apps) do not change.
    """

    attr_class = TrackedImageFieldFile

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.ImageField", args, kwargs
