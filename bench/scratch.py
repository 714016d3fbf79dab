"""Throwaway databases for one benchmark: never the main database.

SQLite: a DATA_DIR inside the benchmark's temporary folder. PostgreSQL: when
DATABASE_URL is set, it serves only as the admin connection that creates and
drops a scratch database ``bench_<pid>`` on the same server.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def database_kind(environ: dict[str, str] | os._Environ = os.environ) -> str:
    return "postgresql" if environ.get("DATABASE_URL", "").strip() else "sqlite"


@contextmanager
def scratch_environment(base_env: dict[str, str], folder: Path) -> Iterator[dict[str, str]]:
    """The environment for a benchmark process: its own empty database and data folder."""
    env = dict(base_env)
    env["DATA_DIR"] = str(folder / "data")
    env["BENCH_DIR"] = str(folder)
    # Benchmarks configure their own roots; the caller's must not leak in.
    env.pop("MODEL_ROOTS", None)
    env.pop("COMFYUI_PATH", None)
    admin_url = env.get("DATABASE_URL", "").strip()
    if not admin_url:
        yield env
        return
    name = f"bench_{os.getpid()}"
    _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    try:
        env["DATABASE_URL"] = _with_database(admin_url, name)
        yield env
    finally:
        _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_execute(admin_url: str, statement: str) -> None:
    import psycopg

    # CREATE/DROP DATABASE cannot run inside a transaction block.
    with psycopg.connect(_libpq_url(admin_url), autocommit=True) as connection:
        connection.execute(statement)


def _libpq_url(url: str) -> str:
    """libpq accepts postgres:// and postgresql://, not Django-style scheme variants."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
