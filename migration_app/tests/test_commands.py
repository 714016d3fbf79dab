"""manage.py migrate_legacy and manage.py scan, through call_command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from catalog.models import FileHash
from migration_app.models import PendingModel
from migration_app.tests.conftest import H1, build_legacy_db, legacy_row, state

pytestmark = pytest.mark.django_db


def run(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_migrate_legacy_prints_a_summary(tmp_path):
    rows = [legacy_row(1, "/m/a.safetensors", hash_hex=H1), legacy_row(2, "/m/b.safetensors")]
    database = build_legacy_db(tmp_path / "legacy.db", rows, tags=[(1, "style")])
    out, _ = run("migrate_legacy", str(database), verbosity=0)
    assert "1 migrated, 0 merged, 1 pending, 0 skipped, 0 errors" in out
    assert "1 created" in out
    assert out.strip().endswith("success")
    out, _ = run("migrate_legacy", str(database), verbosity=0)
    assert "0 migrated, 0 merged, 0 pending, 2 skipped, 0 errors" in out


def test_migrate_legacy_exits_non_zero_when_errors_were_counted(legacy):
    with pytest.raises(CommandError, match="2 error"):
        run("migrate_legacy", str(legacy.db), "--images", str(legacy.images), verbosity=1)
    # The import itself was committed: errors are counted, not fatal.
    assert PendingModel.objects.count() == 4


def test_migrate_legacy_logs_each_problem(legacy, caplog):
    with pytest.raises(CommandError):
        run("migrate_legacy", str(legacy.db), "--images", str(legacy.images), verbosity=0)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "model row 11 not imported: the path is empty" in logged
    assert "image corrupt.png not imported" in logged
    assert "model_6_missing.png is not in the legacy images folder" in logged
    assert "model row 7: extra_json is not a JSON object" in logged


def test_migrate_legacy_dry_run_changes_nothing(legacy):
    before = state()
    with pytest.raises(CommandError):
        run("migrate_legacy", str(legacy.db), "--images", str(legacy.images), "--dry-run")
    assert state() == before


def test_migrate_legacy_bad_database_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="No file at"):
        run("migrate_legacy", str(tmp_path / "absent.db"))


@pytest.fixture
def scan_roots(tmp_path, settings):
    loras = tmp_path / "loras"
    loras.mkdir()
    (loras / "a.safetensors").write_bytes(b"aaa")
    (loras / "b.pt").write_bytes(b"bb")
    settings.MODEL_ROOTS = {"loras": [str(loras)], "vae": [str(tmp_path / "absent")]}
    return loras


def test_scan_command_reports_counts_and_missing_roots(scan_roots, tmp_path):
    out, err = run("scan", verbosity=0)
    assert "Scanned 2 model files: 2 new pending, 0 skipped" in out
    assert f"Root {tmp_path / 'absent'} does not exist" in err
    out, _ = run("scan", "--type", "loras", verbosity=0)
    assert "Scanned 2 model files: 0 new pending, 2 skipped" in out


@pytest.mark.django_db(transaction=True)
def test_scan_command_with_hash_fills_the_hash_cache(scan_roots):
    out, _ = run("scan", "--hash", "--workers", "2", verbosity=0)
    assert "Hashed 2 pending files (5 B): 5 B read from 2 files, 0 hashes from the cache" in out
    assert FileHash.objects.count() == 2
    assert not PendingModel.objects.filter(sha256="").exists()


def test_scan_command_errors(scan_roots, settings):
    with pytest.raises(CommandError, match="Unknown model type"):
        run("scan", "--type", "nope")
    with pytest.raises(CommandError, match="--workers"):
        run("scan", "--workers", "0")
    settings.MODEL_ROOTS = {}
    with pytest.raises(CommandError, match="MODEL_ROOTS"):
        run("scan")
