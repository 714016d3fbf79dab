"""Reading the legacy database: schema check, row parsing, no Django database.

The legacy file is opened read-only through an SQLite URI, checked for the
tables and columns the import reads, and read completely before anything is
written, so that a damaged file is answered with InvalidInput and no rows.
Rows are turned into ``LegacyModel`` values; a row that cannot be imported
(no path, a value too long for the catalog, a non-numeric date) becomes an
``InvalidRow`` with the reason, which the import counts as an error.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from catalog.types import canonical_type
from config.api import InvalidInput

# The tables and columns the import reads; other columns (meta_json, color,
# ...) and tables (directories, schema_version) are not imported.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "models": frozenset(
        {"id", "path", "name", "type", "size_bytes", "hash_hex", "created_at", "extra_json"}
    ),
    "tags": frozenset({"id", "name"}),
    "model_tags": frozenset({"model_id", "tag_id"}),
}

# The legacy tool's schema, as SPEC.md gives it: what the import expects, and
# what tests and benchmarks build legacy databases from.
LEGACY_DDL = """
CREATE TABLE models (
    id INTEGER PRIMARY KEY, path TEXT UNIQUE NOT NULL, name TEXT, type TEXT NOT NULL,
    size_bytes INTEGER, hash_hex TEXT NOT NULL, created_at INTEGER NOT NULL,
    meta_json TEXT, extra_json TEXT
);
CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, color TEXT,
                   created_at INTEGER);
CREATE TABLE model_tags (model_id INTEGER, tag_id INTEGER, PRIMARY KEY (model_id, tag_id));
CREATE TABLE directories (id INTEGER PRIMARY KEY, path TEXT);
CREATE TABLE schema_version (version INTEGER);
INSERT INTO schema_version VALUES (3);
"""

# Column sizes of the catalog and pending tables (catalog.models, migration_app.models).
MAX_PATH = 4096
MAX_NAME = 512
MAX_TYPE = 64

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class LegacyModel:
    legacy_id: int
    path: str
    name: str
    type: str
    size_bytes: int
    created_at: int
    sha256: str  # "" when the old tool never hashed the file
    description: str = ""
    community_links: str = ""
    prompt_positive: str = ""
    prompt_negative: str = ""
    # File names (not URLs) of the legacy images, in the order listed; None
    # stands for an entry with no usable file name.
    image_names: tuple[str | None, ...] = ()
    tag_ids: tuple[int, ...] = ()
    # False when extra_json was not a JSON object: the row is imported without metadata.
    metadata_readable: bool = True


@dataclass(frozen=True)
class InvalidRow:
    legacy_id: Any
    reason: str


@dataclass
class LegacyData:
    models: list[LegacyModel] = field(default_factory=list)
    tags: dict[int, str] = field(default_factory=dict)
    invalid_rows: list[InvalidRow] = field(default_factory=list)


def legacy_open(path: Any) -> sqlite3.Connection:
    """Open the legacy database read-only after checking its schema.

    Raises InvalidInput when ``path`` is not an existing file, is not an SQLite
    database, or lacks a table or column the import reads.
    """
    if not isinstance(path, str) or not path.strip():
        raise InvalidInput(
            "legacy_db_path must be the path of the legacy SQLite file.",
            code="legacy_db_path_required",
            fields={"legacy_db_path": ["This field is required."]},
        )
    absolute = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(absolute):
        raise InvalidInput(
            f"No file at {path}; give the path of the legacy SQLite database.",
            code="legacy_db_not_found",
            fields={"legacy_db_path": ["No such file."]},
        )
    # mode=ro: the legacy database is never modified, not even its journal.
    connection = sqlite3.connect(f"file:{quote(absolute)}?mode=ro", uri=True)
    try:
        _check_schema(connection, path)
    except BaseException:
        connection.close()
        raise
    return connection


def _check_schema(connection: sqlite3.Connection, path: str) -> None:
    try:
        missing = {
            table: columns - _columns(connection, table)
            for table, columns in REQUIRED_COLUMNS.items()
        }
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(
            f"{path} is not an SQLite database ({exc}).",
            code="legacy_db_invalid",
            fields={"legacy_db_path": ["Not an SQLite database."]},
        ) from None
    absent_tables = sorted(
        table for table, cols in missing.items() if cols == REQUIRED_COLUMNS[table]
    )
    if absent_tables:
        raise InvalidInput(
            f"{path} is not a legacy model library database: "
            f"missing table(s) {', '.join(absent_tables)}.",
            code="legacy_db_schema",
            fields={"legacy_db_path": [f"Missing table(s): {', '.join(absent_tables)}."]},
        )
    absent_columns = sorted(f"{table}.{col}" for table, cols in missing.items() for col in cols)
    if absent_columns:
        raise InvalidInput(
            f"{path} is not a legacy model library database: "
            f"missing column(s) {', '.join(absent_columns)}.",
            code="legacy_db_schema",
            fields={"legacy_db_path": [f"Missing column(s): {', '.join(absent_columns)}."]},
        )


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    # PRAGMA arguments cannot be bound; ``table`` is one of our constants.
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def legacy_read(connection: sqlite3.Connection, path: str = "the legacy database") -> LegacyData:
    """Every model, tag and tag link of an opened legacy database.

    Raises InvalidInput when the file turns out to be damaged while reading.
    """
    try:
        tag_links = _tag_links(connection)
        data = LegacyData(tags=_tags(connection))
        rows = connection.execute(
            "SELECT id, path, name, type, size_bytes, hash_hex, created_at, extra_json "
            "FROM models ORDER BY id"
        )
        for row in rows:
            parsed = legacy_model_from_row(row, tag_links.get(row[0], ()))
            if isinstance(parsed, InvalidRow):
                data.invalid_rows.append(parsed)
            else:
                data.models.append(parsed)
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(
            f"{path} could not be read ({exc}); nothing was imported.",
            code="legacy_db_invalid",
            fields={"legacy_db_path": ["The database could not be read."]},
        ) from None
    return data


def _tags(connection: sqlite3.Connection) -> dict[int, str]:
    return {
        tag_id: str(name)
        for tag_id, name in connection.execute("SELECT id, name FROM tags ORDER BY id")
        if name is not None
    }


def _tag_links(connection: sqlite3.Connection) -> dict[int, tuple[int, ...]]:
    links: dict[int, list[int]] = {}
    query = "SELECT model_id, tag_id FROM model_tags ORDER BY model_id, tag_id"
    for model_id, tag_id in connection.execute(query):
        links.setdefault(model_id, []).append(tag_id)
    return {model_id: tuple(tag_ids) for model_id, tag_ids in links.items()}


def legacy_model_from_row(row: tuple, tag_ids: tuple[int, ...] = ()) -> LegacyModel | InvalidRow:
    """One ``models`` row (id, path, name, type, size_bytes, hash_hex, created_at, extra_json)."""
    legacy_id, path, name, model_type, size_bytes, hash_hex, created_at, extra_json = row
    problem = _row_problem(path, name, model_type)
    size = _integer(size_bytes, default=0)
    created = _integer(created_at, default=None)
    if problem is None and size is None:
        problem = f"size_bytes {size_bytes!r} is not a number"
    if problem is None and created is None:
        problem = f"created_at {created_at!r} is not epoch milliseconds"
    if problem is not None:
        return InvalidRow(legacy_id, problem)
    parsed_extra = _extra_json(extra_json)
    extra = parsed_extra or {}
    prompts = extra.get("prompts") if isinstance(extra.get("prompts"), dict) else {}
    return LegacyModel(
        legacy_id=legacy_id,
        path=path,
        name=_text(name).strip(),
        type=canonical_type(_text(model_type)),
        size_bytes=max(size, 0),
        created_at=max(created, 0),
        sha256=legacy_sha256(hash_hex),
        description=_text(extra.get("description")),
        community_links=_text(extra.get("community_links")),
        prompt_positive=_text(prompts.get("positive")),
        prompt_negative=_text(prompts.get("negative")),
        image_names=tuple(image_file_name(url) for url in _image_urls(extra.get("images"))),
        tag_ids=tag_ids,
        metadata_readable=parsed_extra is not None,
    )


def _row_problem(path: Any, name: Any, model_type: Any) -> str | None:
    if not isinstance(path, str) or not path.strip():
        return "the path is empty"
    if len(path) > MAX_PATH:
        return f"the path is longer than {MAX_PATH} characters"
    if len(_text(name).strip()) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    if len(canonical_type(_text(model_type))) > MAX_TYPE:
        return f"the type is longer than {MAX_TYPE} characters"
    return None


def legacy_sha256(hash_hex: Any) -> str:
    """The lowercase SHA-256 of a ``hash_hex`` value, or "" when it is not one."""
    value = hash_hex.strip().lower() if isinstance(hash_hex, str) else ""
    return value if _HEX64.match(value) else ""


def _integer(value: Any, *, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value: Any) -> str:
    """A string column or JSON value as text; null and other kinds become ''."""
    return value if isinstance(value, str) else ""


def _extra_json(raw: Any) -> dict | None:
    """The extra_json object; {} for null or blank, None when it is not a JSON object."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _image_urls(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def image_file_name(url: Any) -> str | None:
    """The file name an ``images`` URL points at, e.g. /media/a.png -> a.png.

    Query strings, fragments, percent-escapes and Windows separators are
    handled; None when nothing usable remains (the import counts it missing).
    """
    if not isinstance(url, str) or not url.strip():
        return None
    path = unquote(urlsplit(url.strip()).path).replace("\\", "/")
    name = posixpath.basename(path)
    if name in ("", ".", "..") or "\x00" in name or len(name) > 255:
        return None
    return name
