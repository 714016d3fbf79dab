"""Search of the catalog: ``q`` of GET /api/models, kept fast by the database's text index.

Every term of ``q`` must occur, without regard to case, in the model's name,
path, description or trigger words, or in the name of one of its tags. A term
is a word (``painterly``) or a phrase in double quotes (``"zkz style"``); it
matches anywhere inside the text, the way ``q`` always has (a piece of a file
name such as ``xl_base`` still finds it), so the index is a trigram index on
both databases rather than a word index, which would only find whole words.

The searched text of each model (its *document*) lives in a table of its own,
``catalog_search_doc``, kept in step by triggers on the catalog table: every
writer (ORM saves, bulk SQL, the admin, restores) keeps it current without
knowing it exists.

- SQLite: the document table (stable integer ids) is the external content of
  an FTS5 table with the ``trigram`` tokenizer; a term of 3 characters or
  more is an FTS5 MATCH, a shorter one a LIKE over the documents.
- PostgreSQL: the document is stored lower-cased, with a GIN index
  (``pg_trgm``'s ``gin_trgm_ops``) that ``LIKE '%term%'`` uses. Storing it
  rather than indexing an expression makes the rows the index hands back
  cheap to re-check: lower-casing and unpacking the trigger-word JSON of
  every row costs twenty times more than reading a stored string.

Tag names are not copied into documents: a term is matched against the small
tag table and the models carrying a matching tag come from the link table's
index, so tagging 10,000 models or renaming a tag writes no search data.

``install_search_index`` runs in the catalog's migration;
``ensure_search_index`` runs after every ``migrate`` and rebuilds what a
schema change left stale (on SQLite, rebuilding a table drops its triggers).
"""

from __future__ import annotations

import logging
import re

from django.db import connection as default_connection
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.db.models.expressions import RawSQL

logger = logging.getLogger(__name__)

MAX_TERMS = 16
MAX_TERM_LENGTH = 200
# The catalog columns searched, besides trigger words (in file_info) and tag names.
DOCUMENT_FIELDS: tuple[str, ...] = ("name", "path", "description")
# A phrase in double quotes, or a run of non-space characters.
_TERM_RE = re.compile(r'"([^"]*)"|(\S+)')

DOC_TABLE = "catalog_search_doc"
SQLITE_FTS_TABLE = "catalog_search"
PG_INDEX = "catalog_search_doc_trgm"
PG_TRIGGER_WORDS = "catalog_trigger_words"
PG_SYNC = "catalog_search_doc_sync"
PG_TRUNCATE = "catalog_search_doc_truncate"


class SearchTermsError(ValueError):
    """``q`` has more terms, or longer ones, than a search takes."""


def search_terms(q: str) -> list[str]:
    """The terms of ``q``: words, and phrases in double quotes (runs of spaces folded).

    An unpaired double quote is an ordinary character; a term repeated in
    another case counts once. Raises SearchTermsError for more than
    MAX_TERMS terms or a term over MAX_TERM_LENGTH characters.
    """
    terms: list[str] = []
    seen: set[str] = set()
    for match in _TERM_RE.finditer(q):
        phrase, word = match.groups()
        term = " ".join(phrase.split()) if phrase is not None else word
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise SearchTermsError(f"At most {MAX_TERMS} search terms; this has {len(terms)}.")
    if any(len(term) > MAX_TERM_LENGTH for term in terms):
        raise SearchTermsError(f"A search term is at most {MAX_TERM_LENGTH} characters.")
    return terms


def search_filter(queryset: QuerySet, q: str) -> QuerySet:
    """``queryset`` narrowed to the models matching every term of ``q``.

    Keeps the queryset's ordering and adds no join, so counts and pages stay
    exact. One query first finds the tags whose names hold a term; the terms
    that name no tag (the usual case) are then looked up together in one
    pass over the text index (an FTS5 ``AND``, a PostgreSQL BitmapAnd), and
    each remaining term is "its documents or its tags' models", both parts
    answered from their own indexes.
    """
    terms = search_terms(q)
    if not terms:
        return queryset
    model = queryset.model
    vendor = default_connection.vendor
    tagged = _tag_ids_by_term(model, terms)
    text_only = [term for term in terms if not tagged[term]]
    if text_only:
        queryset = queryset.filter(pk__in=_documents_matching(model, vendor, text_only))
    for term in terms:
        if tagged[term]:
            documents = _documents_matching(model, vendor, [term])
            links = _models_tagged(model, tagged[term])
            if isinstance(documents, RawSQL) and vendor == "postgresql":
                # One set, documents UNION tagged models, rather than an OR of
                # two IN (subquery): inside an OR, PostgreSQL may scan a large
                # subquery once per row (it does not hash what it thinks
                # exceeds work_mem), 40 minutes at 100,000 models; a lone IN is
                # a semi-join. SQLite always builds an IN subquery once.
                links_sql, links_params = links.query.sql_with_params()
                union = RawSQL(
                    f"{documents.sql} UNION {links_sql}", [*documents.params, *links_params]
                )
                queryset = queryset.filter(pk__in=union)
            else:
                queryset = queryset.filter(Q(pk__in=documents) | Q(pk__in=links))
    return queryset


def _tag_ids_by_term(model: type, terms: list[str]) -> dict[str, list[int]]:
    """{term: ids of the tags whose name contains it (any case)}, from one query.

    The database decides each match (one boolean column per term), with the
    same LIKE as everywhere else.
    """
    tag_model = model.tags.through._meta.get_field("tag").related_model
    any_term = Q()
    flags = {}
    for index, term in enumerate(terms):
        any_term |= Q(name__icontains=term)
        flags[f"term_{index}"] = ExpressionWrapper(
            Q(name__icontains=term), output_field=BooleanField()
        )
    rows = tag_model.objects.filter(any_term).annotate(**flags).values("pk", *flags)
    by_term: dict[str, list[int]] = {term: [] for term in terms}
    for row in rows:
        for index, term in enumerate(terms):
            if row[f"term_{index}"]:
                by_term[term].append(row["pk"])
    return by_term


def _models_tagged(model: type, tag_ids: list[int]) -> QuerySet:
    through = model.tags.through
    return (
        through.objects.filter(tag_id__in=tag_ids).order_by().values(f"{model._meta.model_name}_id")
    )


def _documents_matching(model: type, vendor: str, terms: list[str]) -> RawSQL | QuerySet:
    """The sha256 of the models whose own text contains every one of ``terms`` (any case)."""
    if vendor == "postgresql":
        # Lower-cased in SQL, as the stored documents were; escaping first is
        # safe because lower() leaves backslashes, % and _ alone.
        conditions = " AND ".join(["doc LIKE '%%' || LOWER(%s) || '%%'"] * len(terms))
        sql = f"SELECT sha256 FROM {DOC_TABLE} WHERE {conditions}"
        return RawSQL(sql, [_like_escape(term) for term in terms])
    if vendor == "sqlite":
        # A quoted FTS5 string is matched as a substring by the trigram
        # tokenizer (which folds case); a double quote inside is doubled.
        # Trigrams cannot find one or two characters: those scan with LIKE.
        long_terms = [term for term in terms if len(term) >= 3]
        short_terms = [term for term in terms if len(term) < 3]
        conditions: list[str] = []
        params: list[str] = []
        if long_terms:
            conditions.append(
                f"id IN (SELECT rowid FROM {SQLITE_FTS_TABLE} WHERE {SQLITE_FTS_TABLE} MATCH %s)"
            )
            params.append(" AND ".join('"' + term.replace('"', '""') + '"' for term in long_terms))
        for term in short_terms:
            conditions.append("doc LIKE %s ESCAPE '\\'")
            params.append(f"%{_like_escape(term)}%")
        return RawSQL(f"SELECT sha256 FROM {DOC_TABLE} WHERE {' AND '.join(conditions)}", params)
    condition = Q()
    for term in terms:
        term_condition = Q()
        for name in document_fields(model):
            term_condition |= Q(**{f"{name}__icontains": term})
        condition &= term_condition
    return model.objects.filter(condition).order_by().values("pk")


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- the index ----------------------------------------------------------------------


def document_fields(model: type) -> list[str]:
    """The text columns of ``model`` that documents hold (trigger words aside)."""
    names = {field.name for field in model._meta.concrete_fields}
    return [name for name in DOCUMENT_FIELDS if name in names]


def _has_file_info(model: type) -> bool:
    return any(field.name == "file_info" for field in model._meta.concrete_fields)


def _watched_columns(model: type) -> str:
    names = [*document_fields(model), *(["file_info"] if _has_file_info(model) else []), "sha256"]
    return ", ".join(model._meta.get_field(name).column for name in names)


def _sqlite_document(model: type, row: str) -> str:
    parts = [
        f"COALESCE({row}.{model._meta.get_field(name).column}, '')"
        for name in document_fields(model)
    ]
    if _has_file_info(model):
        info = f"{row}.file_info"
        parts.append(
            "COALESCE((SELECT group_concat(value, char(10)) FROM json_each("
            f"CASE WHEN json_valid({info}) THEN {info} ELSE '{{}}' END, '$.trigger_words')), '')"
        )
    return " || char(10) || ".join(parts)


def _sqlite_statements(model: type) -> dict[str, str]:
    """name -> statement of every SQLite trigger (tables are created separately)."""
    table = model._meta.db_table
    doc = _sqlite_document(model, "NEW")
    fts = SQLITE_FTS_TABLE
    return {
        # The FTS table follows the document table (FTS5's external content).
        f"{DOC_TABLE}_ai": f"CREATE TRIGGER {DOC_TABLE}_ai AFTER INSERT ON {DOC_TABLE} "
        f"BEGIN INSERT INTO {fts}(rowid, doc) VALUES (NEW.id, NEW.doc); END",
        f"{DOC_TABLE}_ad": f"CREATE TRIGGER {DOC_TABLE}_ad AFTER DELETE ON {DOC_TABLE} "
        f"BEGIN INSERT INTO {fts}({fts}, rowid, doc) VALUES ('delete', OLD.id, OLD.doc); END",
        f"{DOC_TABLE}_au": f"CREATE TRIGGER {DOC_TABLE}_au AFTER UPDATE ON {DOC_TABLE} "
        f"BEGIN INSERT INTO {fts}({fts}, rowid, doc) VALUES ('delete', OLD.id, OLD.doc); "
        f"INSERT INTO {fts}(rowid, doc) VALUES (NEW.id, NEW.doc); END",
        # The document table follows the catalog.
        f"{table}_search_ai": f"CREATE TRIGGER {table}_search_ai AFTER INSERT ON {table} "
        f"BEGIN INSERT INTO {DOC_TABLE}(sha256, doc) VALUES (NEW.sha256, {doc}) "
        "ON CONFLICT(sha256) DO UPDATE SET doc = excluded.doc; END",
        f"{table}_search_au": f"CREATE TRIGGER {table}_search_au "
        f"AFTER UPDATE OF {_watched_columns(model)} ON {table} "
        f"BEGIN UPDATE {DOC_TABLE} SET sha256 = NEW.sha256, doc = {doc} "
        "WHERE sha256 = OLD.sha256; END",
        f"{table}_search_ad": f"CREATE TRIGGER {table}_search_ad AFTER DELETE ON {table} "
        f"BEGIN DELETE FROM {DOC_TABLE} WHERE sha256 = OLD.sha256; END",
    }


def _sqlite_install(cursor, model: type) -> None:
    table = model._meta.db_table
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {DOC_TABLE} "
        "(id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, doc TEXT NOT NULL)"
    )
    cursor.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS_TABLE} USING fts5("
        f"doc, content='{DOC_TABLE}', content_rowid='id', tokenize='trigram')"
    )
    for name, statement in _sqlite_statements(model).items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(statement)
    cursor.execute(f"DELETE FROM {DOC_TABLE}")
    cursor.execute(
        f"INSERT INTO {DOC_TABLE}(sha256, doc) "
        f"SELECT sha256, {_sqlite_document(model, table)} FROM {table}"
    )
    cursor.execute(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('rebuild')")


def _sqlite_current(cursor, model: type) -> bool:
    cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    triggers = dict(cursor.fetchall())
    return all(triggers.get(name) == sql for name, sql in _sqlite_statements(model).items())


def _pg_document(model: type, row: str, quote) -> str:
    columns = [quote(model._meta.get_field(name).column) for name in document_fields(model)]
    parts = [f"{row}.{column}" for column in columns]
    if _has_file_info(model):
        parts.append(f"{PG_TRIGGER_WORDS}({row}.file_info)")
    return "LOWER(" + " || E'\\n' || ".join(parts) + ")"


def _pg_functions(model: type, quote) -> dict[str, str]:
    """name -> body of each PL/pgSQL or SQL function the index uses."""
    return {
        # '' when the record has no trigger words, so the document is never NULL.
        PG_TRIGGER_WORDS: "SELECT COALESCE(string_agg(value, E'\\n'), '') "
        "FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(info -> 'trigger_words') "
        "= 'array' THEN info -> 'trigger_words' ELSE '[]'::jsonb END)",
        PG_SYNC: "BEGIN "
        "IF TG_OP IN ('DELETE', 'UPDATE') THEN "
        f"DELETE FROM {DOC_TABLE} WHERE sha256 = OLD.sha256; END IF; "
        "IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; "
        f"INSERT INTO {DOC_TABLE} (sha256, doc) VALUES (NEW.sha256, "
        f"{_pg_document(model, 'NEW', quote)}); "
        "RETURN NEW; END",
        PG_TRUNCATE: f"BEGIN TRUNCATE {DOC_TABLE}; RETURN NULL; END",
    }


def _pg_install(cursor, model: type, quote) -> None:
    table = quote(model._meta.db_table)
    functions = _pg_functions(model, quote)
    cursor.execute(
        f"CREATE TABLE IF NOT EXISTS {DOC_TABLE} "
        "(sha256 varchar(64) PRIMARY KEY, doc text NOT NULL)"
    )
    cursor.execute(
        f"CREATE OR REPLACE FUNCTION {PG_TRIGGER_WORDS}(info jsonb) RETURNS text "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ {functions[PG_TRIGGER_WORDS]} $$"
    )
    for name in (PG_SYNC, PG_TRUNCATE):
        cursor.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ {functions[name]} $$"
        )
    cursor.execute(f"DROP TRIGGER IF EXISTS {PG_SYNC} ON {table}")
    cursor.execute(
        f"CREATE TRIGGER {PG_SYNC} AFTER INSERT OR DELETE OR UPDATE OF "
        f"{_watched_columns(model)} ON {table} FOR EACH ROW EXECUTE FUNCTION {PG_SYNC}()"
    )
    cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRUNCATE} ON {table}")
    cursor.execute(
        f"CREATE TRIGGER {PG_TRUNCATE} AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_TRUNCATE}()"
    )
    cursor.execute(f"TRUNCATE {DOC_TABLE}")
    cursor.execute(
        f"INSERT INTO {DOC_TABLE} (sha256, doc) "
        f"SELECT sha256, {_pg_document(model, table, quote)} FROM {table}"
    )


def _pg_current(cursor, model: type, quote) -> bool:
    cursor.execute(
        "SELECT proname, prosrc FROM pg_proc WHERE proname IN (%s, %s, %s)",
        [PG_TRIGGER_WORDS, PG_SYNC, PG_TRUNCATE],
    )
    bodies = {name: source.strip() for name, source in cursor.fetchall()}
    cursor.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass",
        [model._meta.db_table],
    )
    triggers = {name for (name,) in cursor.fetchall()}
    return bodies == _pg_functions(model, quote) and {PG_SYNC, PG_TRUNCATE} <= triggers


def _pg_index(cursor, connection: BaseDatabaseWrapper) -> str:
    """The GIN trigram index, when the server can give pg_trgm."""
    cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [PG_INDEX])
    if cursor.fetchone() is not None:
        return "present"
    try:
        with transaction.atomic(using=connection.alias):
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # noqa: BLE001 - any refusal: search works unindexed
        logger.warning("Search index skipped: cannot create the pg_trgm extension (%s)", error)
        return "skipped (no pg_trgm)"
    cursor.execute(f"CREATE INDEX {PG_INDEX} ON {DOC_TABLE} USING gin (doc gin_trgm_ops)")
    return "created"


def install_search_index(model: type, connection: BaseDatabaseWrapper) -> str:
    """Create (or re-create) the search documents of ``model``, their triggers and
    index, and fill them from the catalog. Returns a short account for output.

    PostgreSQL without the ``pg_trgm`` extension gets everything but the GIN
    index (logged): search then works, unindexed.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            _sqlite_install(cursor, model)
            return "SQLite FTS5 trigram index built"
        if connection.vendor == "postgresql":
            _pg_install(cursor, model, connection.ops.quote_name)
            index = _pg_index(cursor, connection)
            return f"PostgreSQL search documents built; trigram index {index}"
    return "no search index on this database"


def ensure_search_index(model: type, connection: BaseDatabaseWrapper) -> bool:
    """Install or repair the search index when it is missing or stale; True when it did.

    Stale: triggers or functions that differ from what the current model
    needs (a SQLite table rebuilt by a migration loses its triggers; a new
    searched column changes them), or a document count that differs from the
    catalog's. Skipped while the catalog lacks a searched column (migrations
    run backwards).
    """
    if connection.vendor not in {"sqlite", "postgresql"}:
        return False
    table = model._meta.db_table
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if table not in tables:
            return False
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        searched = [*document_fields(model), *(["file_info"] if _has_file_info(model) else [])]
        if not {model._meta.get_field(name).column for name in searched} <= columns:
            return False
        if DOC_TABLE in tables:
            if connection.vendor == "sqlite":
                current = _sqlite_current(cursor, model)
            else:
                current = _pg_current(cursor, model, connection.ops.quote_name)
                current = current and _pg_index(cursor, connection) != "created"
            cursor.execute(f"SELECT (SELECT COUNT(*) FROM {table}), COUNT(*) FROM {DOC_TABLE}")
            models_count, documents_count = cursor.fetchone()
            if current and models_count == documents_count:
                return False
    install_search_index(model, connection)
    return True


def remove_search_index(model: type, connection: BaseDatabaseWrapper) -> None:
    """Drop the search documents, their index, triggers and functions (migrating back)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _sqlite_statements(model):
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {SQLITE_FTS_TABLE}")
            cursor.execute(f"DROP TABLE IF EXISTS {DOC_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_SYNC} ON {table}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {PG_TRUNCATE} ON {table}")
            cursor.execute(f"DROP TABLE IF EXISTS {DOC_TABLE}")
            for name in (PG_SYNC, PG_TRUNCATE):
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
            cursor.execute(f"DROP FUNCTION IF EXISTS {PG_TRIGGER_WORDS}(jsonb)")
