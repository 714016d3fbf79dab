"""Stage 1 through the API: POST /api/migration/migrate_legacy_db."""

from __future__ import annotations

import pytest

from catalog.models import CatalogModel
from migration_app.models import PendingModel
from migration_app.tests.conftest import FIRST_REPORT, SECOND_REPORT, state

pytestmark = pytest.mark.django_db

URL = "/api/migration/migrate_legacy_db"


def test_import_answers_the_report_and_a_second_run_changes_nothing(api, legacy):
    body = {"legacy_db_path": str(legacy.db), "legacy_images_dir": str(legacy.images)}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json() == FIRST_REPORT
    before = state()
    assert api.post(URL, body, format="json").json() == SECOND_REPORT
    assert state() == before


@pytest.mark.parametrize("images_dir", [None, ""])
def test_images_folder_is_optional(api, legacy, images_dir):
    body = {"legacy_db_path": str(legacy.db), "legacy_images_dir": images_dir}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200
    assert response.json()["db_migration"]["migrated"] == 3
    assert response.json()["image_migration"]["processed"] == 0


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "invalid_input"),
        ({"legacy_db_path": ""}, "invalid_input"),
        ({"legacy_db_path": 42}, "invalid_input"),
        ({"legacy_db_path": ["a"]}, "invalid_input"),
        ({"legacy_db_path": "{tmp}/absent.db"}, "legacy_db_not_found"),
        ({"legacy_db_path": "{tmp}"}, "legacy_db_not_found"),
        ({"legacy_db_path": "{tmp}/notes.txt"}, "legacy_db_invalid"),
        ({"legacy_db_path": "{tmp}/other.db"}, "legacy_db_schema"),
        (
            {"legacy_db_path": "{db}", "legacy_images_dir": "{tmp}/absent"},
            "legacy_images_dir_not_found",
        ),
        ({"legacy_db_path": "{db}", "legacy_images_dir": 7}, "invalid_input"),
    ],
)
def test_bad_input_is_a_400_with_nothing_written(api, legacy, tmp_path, body, code):
    import sqlite3

    (tmp_path / "notes.txt").write_text("not a database " * 100)
    connection = sqlite3.connect(tmp_path / "other.db")
    connection.execute("CREATE TABLE unrelated (id INTEGER)")
    connection.close()
    filled = {
        key: value.format(tmp=tmp_path, db=legacy.db) if isinstance(value, str) else value
        for key, value in body.items()
    }
    before = state()
    response = api.post(URL, filled, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["error"]
    assert state() == before


def test_paths_outside_legacy_import_roots_are_refused(api, legacy, tmp_path, settings):
    settings.LEGACY_IMPORT_ROOTS = [tmp_path / "allowed"]
    response = api.post(URL, {"legacy_db_path": str(legacy.db)}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "path_not_allowed"
    assert not CatalogModel.objects.exclude(pk=legacy.existing["model"].pk).exists()
    assert PendingModel.objects.count() == 1
