"""A malformed setting, an unreachable database or an unmigrated data folder stops a
real manage.py with one sentence naming what to change: no traceback, a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests_hardening.instance import Instance

# Variables a developer's shell may carry that would change what these runs see.
CLEARED = {"MODEL_ROOTS", "COMFYUI_PATH", "DATABASE_URL", "SECRET_KEY", "DEBUG", "API_AUTH"}


def manage(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess:
    environ = {key: value for key, value in os.environ.items() if key not in CLEARED}
    environ["DATA_DIR"] = str(tmp_path / "data")
    environ.update(variables)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_clear_line(result: subprocess.CompletedProcess, *expected: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # A progress bar may come first; the message is the last line, and only one.
    message = lines[-1]
    for text in expected:
        assert text in message, result.stderr
    return message


def test_start_up_succeeds_with_valid_model_roots(tmp_path):
    result = manage(tmp_path, "check", MODEL_ROOTS=f"loras={tmp_path}/loras")

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("DEBUG", "maybe", "true or false"),
        ("MODEL_ROOTS", "loras", "type=folder"),
        ("MODEL_ROOTS", "garbage", "type=folder"),
        ("COMFYUI_PATH", "/nonexistent/ComfyUI", "not a folder"),
        ("MAX_UPLOAD_MB", "lots", "whole number"),
        ("DATABASE_URL", "nonsense", "database URL"),
        ("DATABASE_URL", "mysql://user@db.invalid/library", "cannot use"),
        ("API_AUTH", "maybe", "none or token"),
        ("TIME_ZONE", "Mars/Olympus", "time zone"),
    ],
)
def test_a_malformed_variable_is_one_sentence_naming_it(tmp_path, variable, value, words):
    result = manage(tmp_path, "migrate", "--no-input", **{variable: value})

    message = assert_one_clear_line(result, variable, words)
    assert message.startswith("Configuration error: ")
    assert result.stdout == ""


def test_traceback_flag_still_shows_the_trace(tmp_path):
    result = manage(tmp_path, "check", "--traceback", DEBUG="maybe")

    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_data_dir_that_cannot_be_a_folder_is_named(tmp_path):
    (tmp_path / "a file").write_text("not a folder")

    result = manage(tmp_path, "check", DATA_DIR=str(tmp_path / "a file"))

    assert_one_clear_line(result, "DATA_DIR", str(tmp_path / "a file"))


def test_an_unreachable_database_says_where_it_tried(tmp_path):
    # Port 9 on loopback: nothing listens there (discard service is not run).
    url = "postgres://library:secret-password@127.0.0.1:9/library"

    result = manage(tmp_path, "migrate", "--no-input", DATABASE_URL=url)

    message = assert_one_clear_line(
        result, "Cannot connect to the database", "127.0.0.1:9", "DATABASE_URL"
    )
    assert "secret-password" not in result.stderr + message


@pytest.fixture
def unmigrated(tmp_path):
    """A data folder (and, on a PostgreSQL run, a database) nobody ran migrate on."""
    inst = Instance(tmp_path / "data")
    yield inst
    inst.drop()


@pytest.mark.parametrize(
    "command",
    [
        ["createsuperuser", "--no-input", "--username", "alice", "--email", "a@example.org"],
        ["create_api_token", "alice", "--create"],
        ["rebuild_renditions"],
        ["clean_media"],
    ],
)
def test_a_command_on_a_never_migrated_database_names_migrate(unmigrated, command):
    result = unmigrated.manage(*command, check=False)

    where = "PostgreSQL database hardening_" if unmigrated.database_name else "db.sqlite3"
    assert_one_clear_line(result, "never been migrated", "manage.py migrate", where)


def test_scan_on_a_never_migrated_database_names_migrate(unmigrated, tmp_path):
    loras = tmp_path / "loras"
    loras.mkdir()
    (loras / "a.safetensors").write_bytes(b"weights")
    unmigrated.env["MODEL_ROOTS"] = f"loras={loras}"

    result = unmigrated.manage("scan", check=False)

    assert_one_clear_line(result, "never been migrated", "manage.py migrate")


def test_the_same_command_works_once_migrated(unmigrated):
    unmigrated.manage("migrate", "--no-input")

    result = unmigrated.manage("create_api_token", "alice", "--create", check=False)

    assert result.returncode == 0, result.stderr
    assert "never been migrated" not in result.stderr


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("DEBUG", "maybe", "Configuration error: DEBUG must be true or false"),
        ("DATABASE_URL", "postgres://library:pw@127.0.0.1:9/library", "Cannot connect"),
    ],
)
def test_bin_serve_stops_with_the_same_one_line(tmp_path, variable, value, words):
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update({"DATA_DIR": str(tmp_path / "data"), variable: value})

    result = subprocess.run(
        ["bin/serve"],
        cwd=settings.BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(words), result.stderr
    assert "Traceback" not in result.stderr
