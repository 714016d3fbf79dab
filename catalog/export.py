"""Export of catalog models as CSV or JSON lines, streamed in constant memory.

Rows are read through a database cursor in chunks and their tags fetched per
batch of BATCH models, so memory holds one batch whatever the catalog's size
(the API sends the bytes as they are made, with StreamingHttpResponse).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet

from catalog.models import CatalogModel, display_name_for
from catalog.selectors import tags_of_models

FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
COLUMNS = (
    "sha256",
    "name",
    "type",
    "path",
    "size_bytes",
    "base_model",
    "architecture",
    "kind",
    "autov2",
    "tags",
    "favorite",
    "rating",
    "nsfw",
    "description",
)
# Read from the row as they are; name and tags are built.
_DB_FIELDS = tuple(column for column in COLUMNS if column != "tags")
BATCH = 1000
# Spreadsheet programs run a cell that starts with one of these as a formula
# (CSV injection); such text cells get a leading apostrophe in CSV.
_FORMULA_STARTS = frozenset("=+-@\t\r")


def export_records(queryset: QuerySet[CatalogModel]) -> Iterator[dict[str, Any]]:
    """One dict per model of ``queryset`` (in its order), ``tags`` a list of names.

    One query for the rows (read by a cursor in chunks) and one per BATCH
    models for their tags.
    """
    rows = queryset.values_list(*_DB_FIELDS).iterator(chunk_size=2000)
    batch: list[dict[str, Any]] = []
    for values in rows:
        record = dict(zip(_DB_FIELDS, values, strict=True))
        record["name"] = record["name"] or display_name_for(record["path"])
        batch.append(record)
        if len(batch) == BATCH:
            yield from _with_tags(batch)
            batch = []
    if batch:
        yield from _with_tags(batch)


def _with_tags(batch: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    tags = tags_of_models([record["sha256"] for record in batch])
    for record in batch:
        record["tags"] = [tag["name"] for tag in tags.get(record["sha256"], [])]
        yield {column: record[column] for column in COLUMNS}


def csv_chunks(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """CSV (RFC 4180, UTF-8, CRLF) with a header row; tags joined with ", "."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for count, record in enumerate(records, 1):
        writer.writerow(
            [
                record["sha256"],
                _defused(record["name"]),
                _defused(record["type"]),
                _defused(record["path"]),
                record["size_bytes"],
                _defused(record["base_model"]),
                _defused(record["architecture"]),
                _defused(record["kind"]),
                record["autov2"],
                _defused(", ".join(record["tags"])),
                "true" if record["favorite"] else "false",
                record["rating"],
                "true" if record["nsfw"] else "false",
                _defused(record["description"]),
            ]
        )
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _defused(text: str) -> str:
    return "'" + text if text and text[0] in _FORMULA_STARTS else text


def jsonl_chunks(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """One JSON object per line (UTF-8), in the column order."""
    lines: list[str] = []
    for record in records:
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        if len(lines) == 500:
            yield ("\n".join(lines) + "\n").encode()
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def export_chunks(queryset: QuerySet[CatalogModel], export_format: str) -> Iterator[bytes]:
    """The bytes of the export of ``queryset`` in ``export_format`` (csv or jsonl)."""
    records = export_records(queryset)
    return csv_chunks(records) if export_format == "csv" else jsonl_chunks(records)
