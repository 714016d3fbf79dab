"""The project's documentation stands alone: docs/API.md lists exactly the routes of
the OpenAPI schema, and the README and docs/ point only at files in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

ROOT = Path(settings.BASE_DIR)
API_DOC = ROOT / "docs" / "API.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# `METHOD /api/path` in a level-3 heading: "### `GET /api/tags`" (aliases may
# share a heading: "### `GET /api/a`, `GET /api/b`").
_ROUTE = re.compile(r"`(" + "|".join(METHODS) + r") (/api/[^`\s]*)`")


def schema_routes() -> set[str]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        for method in operations
        if method.upper() in METHODS
    }


def documented_routes() -> set[str]:
    routes = set()
    for line in API_DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            routes |= {f"{method} {path}" for method, path in _ROUTE.findall(line)}
    return routes


def test_every_route_of_the_openapi_schema_is_described_in_api_md():
    missing = sorted(schema_routes() - documented_routes())

    assert not missing, (
        "These routes are in the OpenAPI schema but not described in docs/API.md; "
        "add a section headed ### `METHOD /api/path` for each (same {placeholders} "
        "as the schema):\n  " + "\n  ".join(missing)
    )


def test_every_route_described_in_api_md_is_in_the_openapi_schema():
    extra = sorted(documented_routes() - schema_routes())

    assert not extra, (
        "These routes are described in docs/API.md but the OpenAPI schema has no such "
        "route (renamed, removed, or a placeholder spelled differently):\n  " + "\n  ".join(extra)
    )


def test_the_route_list_is_parsed_from_headings():
    assert {"GET /api/hello", "GET /api/images/original/{name}"} <= documented_routes()


# --- links stay inside the repository ----------------------------------------------------

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# [text](target) links, outside code spans (a regex in a code span is no link).
_LINK = re.compile(r"\]\(([^)\s]+)\)")
# Any path that climbs out of its folder, in code spans too (`../shared/x.md`).
_CLIMB = re.compile(r"(?<![\w.])((?:\.\./)+[\w./-]*)")
# Documents named in code spans, the way the README refers to them.
_DOC_SPAN = re.compile(r"`((?:docs/)?[\w.-]+\.md)`")


def links(text: str) -> list[str]:
    targets = [t.split("#", 1)[0] for t in _LINK.findall(_CODE_SPAN.sub("", text))]
    return [t for t in targets if t and "://" not in t and not t.startswith("mailto:")]


def resolves_inside(document: Path, target: str) -> bool:
    """The target names a file of the repository, from the document's folder or the root."""
    for base in (document.parent, ROOT):
        path = (base / target).resolve()
        if path.is_relative_to(ROOT) and path.exists():
            return True
    return False


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: path.name)
def test_documents_link_only_to_files_in_the_repository(document):
    text = document.read_text(encoding="utf-8")
    targets = links(text) + _CLIMB.findall(text)

    outside = sorted({t for t in targets if not resolves_inside(document, t)})

    assert not outside, (
        f"{document.relative_to(ROOT)} points at files that are not in the repository "
        f"(a reader who cloned it does not have them): {outside}"
    )


def test_every_document_the_readme_names_exists():
    readme = ROOT / "README.md"

    named = _DOC_SPAN.findall(readme.read_text(encoding="utf-8"))

    assert "docs/API.md" in named
    assert not [name for name in named if not resolves_inside(readme, name)]
