"""Where each catalog model's bytes live: locations, the primary path, the missing flag.

Writes shared by promotion, the scan's relink, PATCH and the library's verify
and watcher. Only rows change here: a model file is never opened for writing,
moved or deleted (docs/library-health.md).
"""

from __future__ import annotations

import errno
import os
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from catalog.models import CatalogModel, ModelLocation
from catalog.services import FileChanged, file_sha256_cached
from config.prepared import PreparedQuery

# Rows per IN (...) query: under SQLite's bound-parameter cap.
BATCH = 500

# Present locations a scan stats at most to find moved files (locations_gone_mark).
GONE_CHECK_LIMIT = 10_000

# errno values that mean "nothing is at this path" (a file, or a folder on its way).
ABSENT_ERRNOS = frozenset({errno.ENOENT, errno.ENOTDIR})


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def signed64(value: int) -> int:
    """An unsigned 64-bit st_dev/st_ino as the signed value a BIGINT column holds."""
    return value - (1 << 64) if value >= 1 << 63 else value


def path_stat(path: str) -> os.stat_result | None:
    """``os.stat(path)`` (symlinks followed), or None when nothing is there.

    Other errors (a folder that may not be searched, an I/O error) are raised:
    a file that cannot be looked at is not known to be gone.
    """
    try:
        return os.stat(path)
    except OSError as exc:
        if exc.errno in ABSENT_ERRNOS:
            return None
        raise


def stat_values(info: os.stat_result | None, *, missing_since: int | None = None) -> dict:
    """The columns of a location for a file's stat (None: the file is absent)."""
    if info is None:
        return {"missing": True, "missing_since": missing_since or now_ms()}
    return {
        "size_bytes": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "device": signed64(info.st_dev),
        "inode": signed64(info.st_ino),
        "missing": False,
        "missing_since": None,
    }


def location_add(
    *, model: CatalogModel, path: str, info: os.stat_result | None = None, keep_path: bool = False
) -> ModelLocation:
    """Record ``path`` as a location of ``model`` (idempotent), from the file's stat.

    ``info`` is the file's stat when the caller has it; otherwise the file is
    looked at now, and an absent file becomes a missing location. A path that
    was another model's location moves to ``model`` (the caller knows the file
    there holds ``model``'s bytes). ``keep_path``: the model's ``path`` stays as
    it is (a curator just set it). Then the primary path and the missing flag of
    the models concerned are brought up to date. Writes ModelLocation and
    CatalogModel rows; never the file.
    """
    if info is None:
        info = path_stat(path)
    values = stat_values(info)
    if info is None:
        values["size_bytes"] = model.size_bytes
    with transaction.atomic():
        previous = (
            ModelLocation.objects.select_for_update()
            .filter(path=path)
            .values_list("model_id", "missing_since")
            .first()
        )
        if previous is not None and info is None and previous[1] is not None:
            values["missing_since"] = previous[1]  # missing since then, not since now
        if model.path and model.path != path:
            # A path recorded before locations existed is remembered, not replaced.
            _path_adopt(model)
        location, _ = ModelLocation.objects.update_or_create(
            path=path, defaults={"model": model, **values}
        )
        affected = {model.pk} | ({previous[0]} if previous is not None else set())
        models_presence_refresh(affected, keep_paths={model.pk} if keep_path else ())
    return location


# A location's id by path: compiled once, run for each promoted file.
_LOCATION_AT = PreparedQuery(
    lambda path: ModelLocation.objects.filter(path=path).values_list("pk")[:1]
)


def location_add_new(*, model: CatalogModel) -> ModelLocation:
    """``location_add`` of ``model.path`` for a model just created there, in the
    caller's transaction.

    The model row is already present and holds that path: when the file is
    there and the path is no model's location yet (the common case of a
    promotion), the location is one INSERT and nothing else needs refreshing.
    """
    info = path_stat(model.path)
    if info is None or _LOCATION_AT.row(model.path) is not None:
        return location_add(model=model, path=model.path, info=info)
    return ModelLocation.objects.create(model=model, path=model.path, **stat_values(info))


def _path_adopt(model: CatalogModel) -> None:
    """Make the model's ``path`` one of its locations when no model has it as one yet."""
    if ModelLocation.objects.filter(path=model.path).exists():
        return
    try:
        info = path_stat(model.path)
    except OSError:
        info = None
    values = stat_values(info)
    values.setdefault("size_bytes", model.size_bytes)
    ModelLocation.objects.create(model=model, path=model.path, **values)


def models_presence_refresh(model_ids: Iterable[str], *, keep_paths: Iterable[str] = ()) -> int:
    """Bring ``path``, ``missing`` and ``missing_since`` of these models in line with
    their locations; the number of models changed.

    ``path`` is the primary location: the current one while it is present,
    else the first present location (oldest first); a model with no present
    location keeps its last path, is missing, and ``missing_since`` is when its
    last location went missing. A model without any location is missing too.
    Models in ``keep_paths`` keep their path whatever it is. Two queries, and
    one UPDATE per changed model, per batch of 500 models.
    """
    keep = set(keep_paths)
    ids = sorted(set(model_ids))
    changed = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        locations: dict[str, list[tuple]] = defaultdict(list)
        rows = (
            ModelLocation.objects.filter(model_id__in=chunk)
            .order_by("id")
            .values_list("model_id", "path", "missing", "missing_since")
        )
        for model_id, path, missing, since in rows:
            locations[model_id].append((path, missing, since))
        current = CatalogModel.objects.filter(pk__in=chunk).values_list(
            "pk", "path", "missing", "missing_since"
        )
        now = now_ms()
        for sha256, path, missing, since in current:
            wanted = _presence(path, locations.get(sha256, []), keep=sha256 in keep)
            new_path, new_missing, new_since = wanted
            if not new_missing:
                new_since = None
            elif missing and since is not None:
                new_since = since  # still missing: since when it went missing
            elif new_since is None:
                new_since = now
            if (new_path, new_missing, new_since) != (path, missing, since):
                CatalogModel.objects.filter(pk=sha256).update(
                    path=new_path, missing=new_missing, missing_since=new_since
                )
                changed += 1
    return changed


def _presence(path: str, locations: list[tuple], *, keep: bool) -> tuple[str, bool, int | None]:
    """(path, missing, missing_since) for a model with these (path, missing, since) locations."""
    present = [location_path for location_path, missing, _ in locations if not missing]
    if present:
        return (path if keep or path in present else present[0]), False, None
    if keep:
        return path, True, None
    if not locations:
        # Its last file was found holding other bytes: no path is known any more.
        return "", True, None
    known = [location_path for location_path, _, _ in locations]
    sinces = [since for _, _, since in locations if since is not None]
    # Missing: the path stays the one last seen, if it is still one of its locations.
    return (path if path in known else known[0]), True, max(sinces) if sinces else None


def location_sizes() -> set[int]:
    """The size of every location: a new file of another size cannot be a moved copy.

    One query; a few MB of integers at 100,000 locations.
    """
    return set(
        ModelLocation.objects.order_by()
        .values_list("size_bytes", flat=True)
        .distinct()
        .iterator(chunk_size=10_000)
    )


def locations_gone_mark(*, sizes: Iterable[int], limit: int = GONE_CHECK_LIMIT) -> int:
    """Stat the present locations of these sizes and mark missing those not on disk;
    how many were marked.

    A scan calls it for the sizes of its new files, so that a file moved since
    the last verify is relinked at once instead of staged as a duplicate. At
    most ``limit`` locations are looked at (thousands of files of one size are
    possible); a verify marks the others.
    """
    wanted = sorted(set(sizes))
    gone: list[tuple[int, str]] = []
    for start in range(0, len(wanted), BATCH):
        if limit <= 0:
            break
        rows = ModelLocation.objects.filter(
            missing=False, size_bytes__in=wanted[start : start + BATCH]
        ).values_list("id", "model_id", "path")[:limit]
        limit -= len(rows)
        for location_id, model_id, path in rows:
            try:
                if path_stat(path) is None:
                    gone.append((location_id, model_id))
            except OSError:
                pass  # cannot be looked at: not known to be gone
    if gone:
        with transaction.atomic():
            ModelLocation.objects.filter(id__in=[i for i, _ in gone], missing=False).update(
                missing=True, missing_since=now_ms()
            )
            models_presence_refresh(model_id for _, model_id in gone)
    return len(gone)


def locations_relink(files: Sequence[Any]) -> list[str]:
    """Make each file (with ``path`` and ``size_bytes``) whose bytes are those of a
    model with a missing location of the same size a location of that model;
    the paths relinked.

    A file whose device, inode and modification time equal a missing
    location's is that file renamed: the location moves to the new path,
    without reading the file. Any other candidate is hashed (through the hash
    cache) outside a transaction and becomes an added location, the missing
    one being kept (an unplugged disk may come back). A file that cannot be
    read is left alone. Writes ModelLocation, CatalogModel and FileHash rows.
    """
    missing_sizes = set(
        ModelLocation.objects.filter(missing=True)
        .order_by()
        .values_list("size_bytes", flat=True)
        .distinct()
    )
    candidates = [found for found in files if found.size_bytes in missing_sizes]
    if not candidates:
        return []
    by_size: dict[int, list[tuple]] = defaultdict(list)
    sizes = sorted({found.size_bytes for found in candidates})
    for start in range(0, len(sizes), BATCH):
        rows = ModelLocation.objects.filter(
            missing=True, size_bytes__in=sizes[start : start + BATCH]
        ).values_list("size_bytes", "id", "model_id", "device", "inode", "mtime_ns")
        for size, *missing in rows:
            by_size[size].append(tuple(missing))
    relinked = []
    for found in candidates:
        missing = by_size.get(found.size_bytes, [])
        try:
            info = os.stat(found.path)
        except OSError:
            continue
        renamed = _renamed_from(info, missing)
        if renamed is not None:
            if _location_move(renamed, found.path, info):
                relinked.append(found.path)
            continue
        try:
            sha256 = file_sha256_cached(path=found.path)
        except (OSError, FileChanged):
            continue
        if sha256 not in {model_id for _, model_id, *_ in missing}:
            continue
        model = CatalogModel.objects.filter(pk=sha256).first()
        if model is None:
            continue
        with transaction.atomic():
            if ModelLocation.objects.filter(path=found.path).exists():
                continue  # linked meanwhile (a verify, the watcher)
            location_add(model=model, path=found.path, info=info)
        relinked.append(found.path)
    return relinked


def _renamed_from(info: os.stat_result, missing: list[tuple]) -> tuple | None:
    """The missing location that is this very file under another name, if any."""
    key = (signed64(info.st_dev), signed64(info.st_ino), info.st_mtime_ns)
    for location in missing:
        if (location[2], location[3], location[4]) == key:
            return location
    return None


def _location_move(location: tuple, path: str, info: os.stat_result) -> bool:
    """Point a missing location at the path its file was renamed to."""
    location_id, model_id = location[0], location[1]
    with transaction.atomic():
        if ModelLocation.objects.filter(path=path).exists():
            return False
        moved = ModelLocation.objects.filter(id=location_id, missing=True).update(
            path=path, **stat_values(info)
        )
        if moved:
            models_presence_refresh([model_id])
    return bool(moved)


def location_remember(*, model: CatalogModel, path: str) -> bool:
    """Add ``path`` as a location of ``model`` unless it already is anyone's location.

    For paths a record only claims (an imported database): a path another
    model already holds is not taken from it. True when a location was added.
    """
    if ModelLocation.objects.filter(path=path).exists():
        return False
    location_add(model=model, path=path)
    return True
