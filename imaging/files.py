"""Files of imaging rows: written atomically, removed with the rows they belong to.

Every file imaging writes (originals through ``TrackedImageField``, renditions
through ``write_file``) is reported to the innermost active
``files_removed_on_rollback`` block, so a block that fails removes the files
of rows its transaction rolled back. The stack is a context variable: each
thread (and each asyncio task) has its own.

The same code runs on the local media folder and on an S3-compatible bucket
(``MEDIA_STORAGE=s3``); the few places where they differ are here:
``write_file`` (rename on disk, one PUT in S3), ``stored_file_open`` (stream an
object without downloading it first) and ``stored_names`` (one listing).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import IO

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


def is_s3(storage: Storage) -> bool:
    """Whether ``storage`` is django-storages' S3 backend (MEDIA_STORAGE=s3)."""
    # Not imported here: boto3 is slow to import and unused with local media.
    # While the module is not loaded, no storage can be one of its instances.
    backend = storage.__class__  # resolves default_storage (a lazy object) first
    module = sys.modules.get("storages.backends.s3")
    return module is not None and issubclass(backend, module.S3Storage)


def write_file(storage: Storage, name: str, data: bytes) -> None:
    """Write ``data`` under ``name``, replacing any file there, never half-written.

    On local disk the bytes go to a temporary name first and are moved into
    place with one rename. In S3 an object becomes visible only once its PUT
    (or multipart upload) completed, and a PUT over an existing key replaces it
    in one step: readers see the old bytes or the new, never a part.
    """
    if isinstance(storage, FileSystemStorage):
        temporary = storage.save(f"{name}.{uuid.uuid4().hex}.tmp", ContentFile(data))
        checkpoint("rendition_write")  # crash tests: written, not yet in place
        try:
            os.replace(storage.path(temporary), storage.path(name))
        except BaseException:
            delete_quietly(storage, [temporary])
            raise
    elif getattr(storage, "file_overwrite", False):
        # S3 (settings: file_overwrite) writes the name as given, in one PUT.
        storage.save(name, ContentFile(data))
    else:
        # Another backend that would suffix a taken name: free it first.
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(data))
    track_written(storage, name)


@dataclass
class StoredFile:
    """An open stored file to stream, and its size in bytes."""

    stream: IO[bytes]
    size: int


def stored_file_open(storage: Storage, name: str) -> StoredFile:
    """Open a stored file for streaming; FileNotFoundError when it is absent.

    From S3 the object's body is streamed as it arrives (one GET), rather than
    downloaded into a temporary file first as ``storage.open`` does.
    """
    if is_s3(storage):
        from botocore.exceptions import ClientError
        from storages.utils import clean_name

        key = storage._normalize_name(clean_name(name))
        try:
            answer = storage.connection.meta.client.get_object(Bucket=storage.bucket_name, Key=key)
        except ClientError as error:
            if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                raise FileNotFoundError(name) from None
            raise
        return StoredFile(answer["Body"], int(answer["ContentLength"]))
    handle = storage.open(name, "rb")
    try:
        # The size of the file opened, even if a rebuild replaces the name now.
        size = os.fstat(handle.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        size = storage.size(name)
    return StoredFile(handle, size)


def stored_names(storage: Storage, folder: str) -> Iterator[str]:
    """Names of the files directly in ``folder`` (none when it does not exist)."""
    try:
        _folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for file_name in files:
        yield f"{folder}/{file_name}"


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
