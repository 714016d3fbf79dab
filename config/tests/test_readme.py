"""The README stands alone: one API table, every variable and every command listed."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.management import get_commands

README = Path(settings.BASE_DIR, "README.md").read_text(encoding="utf-8")
PROJECT_APPS = {"config", "catalog", "tags", "imaging", "migration_app", "jobs", "library"}

# Variables read through config.env's readers or os.environ, in the project's code.
_READ = re.compile(
    r"""(?:env_\w+|path_roots_from|proxy_ssl_header_from|environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def variables_read() -> set[str]:
    found = set()
    for app in PROJECT_APPS:
        folder = Path(settings.BASE_DIR, app)
        for source in folder.rglob("*.py") if folder.is_dir() else []:
            if "tests" in source.parts or "migrations" in source.parts:
                continue
            found |= set(_READ.findall(source.read_text(encoding="utf-8")))
    shell = Path(settings.BASE_DIR, "bin").glob("*")
    for script in shell:
        found |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", script.read_text(encoding="utf-8")))
    # Not the service's own: the standard temporary-folder variable and Django's.
    return found - {"TMPDIR", "DJANGO_SETTINGS_MODULE", "FAULT_POINT"}


def test_the_api_summary_is_one_table():
    lines = section("API summary").splitlines()
    rows = [n for n, line in enumerate(lines) if line.startswith("|")]

    assert rows, "no table"
    # A blank line inside a Markdown table ends it; the rows after it render as text.
    assert rows == list(range(rows[0], rows[0] + len(rows)))
    assert lines[rows[0] + 1].startswith("| ---")


def test_every_environment_variable_is_in_the_configuration_table():
    table = section("Configuration")

    missing = sorted(v for v in variables_read() if f"`{v}`" not in table)

    assert variables_read() >= {"DATA_DIR", "HOST", "PORT", "TIME_ZONE"}
    assert not missing, f"not in README's Configuration table: {missing}"


def test_every_command_of_the_project_is_in_the_commands_table():
    table = section("Commands")
    ours = sorted(name for name, app in get_commands().items() if app in PROJECT_APPS)

    missing = [name for name in ours if f"`manage.py {name}" not in table]

    assert "scan" in ours
    assert not missing, f"not in README's Commands table: {missing}"


def test_set_up_says_how_to_choose_the_address():
    set_up = section("Set-up: two commands")

    assert "`HOST`" in set_up and "`PORT`" in set_up
    assert "`127.0.0.1`" in set_up and "`8000`" in set_up
    assert "BIND" not in README
