"""Running manage.py: configuration and database problems as one sentence, not a traceback.

A malformed variable (``DEBUG=maybe``, ``MODEL_ROOTS=loras``), a database that
cannot be reached, or a data folder that was never migrated all stop a command
with one line that says what to change, and a non-zero exit. ``--traceback``
shows the full trace, as it does for Django's own command errors.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured

# Exit status of a command stopped by its configuration or its database.
EXIT_CONFIG = 2

# Commands that create or inspect the schema themselves: telling them to run
# `migrate` would be wrong.
SCHEMA_COMMANDS = {"migrate", "makemigrations", "showmigrations", "sqlmigrate", "flush"}

MIGRATE_COMMAND = ".venv/bin/python manage.py migrate"


def run_manage(argv: Sequence[str]) -> None:
    """Run a manage.py command line; exit with one clear sentence on a startup problem."""
    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    argv = list(argv)
    show_traceback = "--traceback" in argv
    subcommand = argv[1] if len(argv) > 1 else "help"
    try:
        settings_load()
        execute_from_command_line(argv)
    except ImproperlyConfigured as exc:
        if show_traceback:
            raise
        _exit(f"Configuration error: {configuration_problem(exc)}")
    except DatabaseError as exc:
        if show_traceback:
            raise
        problem = database_problem(exc, subcommand=subcommand)
        if problem is None:
            raise
        _exit(problem)


def settings_load() -> None:
    """Import the settings now, so that a malformed variable stops here.

    Django would otherwise keep the error for later and print it inside a long
    traceback, or only as a note under the list of commands.
    """
    from django.conf import settings

    settings.INSTALLED_APPS  # noqa: B018  (reading it imports config.settings)


def configuration_problem(exc: ImproperlyConfigured) -> str:
    """The error's message on one line, naming DATABASE_URL when the database backend failed.

    Our own readers (config/env.py) already name their variable; Django's
    backend loader ("Error loading MySQLdb module") does not.
    """
    message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    frames = traceback.extract_tb(exc.__traceback__)
    from_backend = any(f"django{os.sep}db{os.sep}" in frame.filename for frame in frames)
    if from_backend and "DATABASE_URL" not in message:
        return f"DATABASE_URL names a database this installation cannot use: {message}"
    return message


def database_problem(exc: Exception, *, subcommand: str) -> str | None:
    """One sentence for a database error a person can fix, or None for any other.

    The database cannot be reached (DATABASE_URL, a server that is down, a
    folder that cannot hold the SQLite file), or its tables were never created
    or are behind the code (run migrate).
    """
    from django.db import DatabaseError, connection

    where = database_description()
    # The failed statement may have left the connection unusable (PostgreSQL
    # refuses further statements in an aborted transaction): start afresh.
    connection.close()
    try:
        connection.ensure_connection()
    except DatabaseError as connect_error:
        if os.environ.get("DATABASE_URL", "").strip():
            advice = "Check DATABASE_URL and that the database server is running."
        else:
            advice = "Check that DATA_DIR is a folder this user can write to."
        return f"Cannot connect to the database ({where}): {_first_line(connect_error)}. {advice}"
    if subcommand in SCHEMA_COMMANDS:
        return None
    try:
        unapplied = unapplied_migrations()
    except DatabaseError:
        return None
    if not unapplied:
        return None
    if len(unapplied) == _all_migrations_count():
        state = "has never been migrated (it has no tables yet)"
    else:
        state = f"is behind the code ({len(unapplied)} migrations not applied)"
    return (
        f"The database ({where}) {state}: run `{MIGRATE_COMMAND}` first "
        f"(bin/serve does it on every start). The error was: {_first_line(exc)}."
    )


def unapplied_migrations() -> list[tuple[str, str]]:
    """(app, name) of every migration the database has not applied yet."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    return [(m.app_label, m.name) for m, _ in executor.migration_plan(targets)]


def _all_migrations_count() -> int:
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    return len(MigrationLoader(connection, ignore_no_migrations=True).graph.nodes)


def database_description() -> str:
    """Where the default database is, without its password."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    engine = database.get("ENGINE", "")
    if engine.endswith("sqlite3"):
        return f"SQLite file {database.get('NAME')}"
    vendor = "PostgreSQL" if "postgresql" in engine else engine.rsplit(".", 1)[-1]
    host = database.get("HOST") or "local socket"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    user = f", user {database['USER']}" if database.get("USER") else ""
    return f"{vendor} database {database.get('NAME')} at {host}{port}{user}"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return (lines[0] if lines else exc.__class__.__name__).rstrip(".")


def _exit(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(EXIT_CONFIG)
