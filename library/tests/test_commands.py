"""manage.py verify and watch; the periodic rescan; the data migration of locations."""

from __future__ import annotations

import importlib
import io
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from catalog.models import CatalogModel, ModelLocation
from jobs.models import Job
from library.services.rescan import rescan_submit_if_due
from library.tests.conftest import catalog_add, weights

pytestmark = pytest.mark.django_db


def run(*args: str, **options) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_verify_command_prints_a_summary_and_a_progress_bar(roots, capsys):
    present = roots.write("models/loras/present.safetensors", weights("present"))
    gone = roots.write("models/loras/gone.safetensors", weights("gone"))
    catalog_add(present, gone)
    roots.remove(gone)

    out, _ = run("verify")

    assert out.strip() == (
        "Checked 2 files: 1 unchanged, 1 missing, 0 restored, 0 changed "
        "(0 staged as pending, 0 linked to other models), 0 could not be looked at."
    )
    bar = capsys.readouterr().err  # tqdm writes to the process's stderr
    assert "verifying" in bar and "2/2" in bar


def test_verify_command_lists_files_it_could_not_look_at(make_model, tmp_path):
    loop = tmp_path / "loop.safetensors"
    loop.symlink_to(loop)  # stat fails with ELOOP: not known to be gone
    model = make_model(path=str(loop))
    ModelLocation.objects.create(model=model, path=model.path)

    out, err = run("verify", verbosity=0)

    assert f"{loop}: could not be looked at" in err
    assert "0 missing" in out and "1 could not be looked at" in out
    assert not CatalogModel.objects.get(pk=model.pk).missing


def test_verify_command_in_the_background_submits_a_job(db):
    out, _ = run("verify", "--background")
    job = Job.objects.get()
    assert job.kind == "verify" and f"verify job {job.pk}" in out


def test_watch_refuses_a_rescan_only_run_without_minutes(settings):
    settings.RESCAN_MINUTES = 0
    with pytest.raises(CommandError, match="needs RESCAN_MINUTES"):
        call_command("watch", "--rescan-only")
    with pytest.raises(CommandError, match="0 or more"):
        call_command("watch", "--rescan-minutes", "-1")


def test_watch_without_roots_says_how_to_configure_them(settings):
    settings.MODEL_ROOTS = {}
    with pytest.raises(CommandError, match="MODEL_ROOTS"):
        call_command("watch")


def test_the_periodic_rescan_submits_one_scan_job_per_period(roots):
    job = rescan_submit_if_due(minutes=30)
    assert job is not None and (job.kind, job.params) == ("scan", {"type": None})
    assert rescan_submit_if_due(minutes=30) is None  # one already this period
    Job.objects.filter(pk=job.pk).update(
        state="succeeded", created_at=timezone.now() - timedelta(minutes=31)
    )
    later = rescan_submit_if_due(minutes=30)
    assert later is not None and later.pk != job.pk


def test_the_periodic_rescan_without_roots_submits_nothing(settings):
    settings.MODEL_ROOTS = {}
    assert rescan_submit_if_due(minutes=5) is None
    assert not Job.objects.exists()


def test_the_migration_gives_each_model_its_path_as_a_location(make_model):
    folder = Path(importlib.import_module("catalog.migrations").__path__[0])
    name = next(folder.glob("*_model_locations.py")).stem
    migration = importlib.import_module(f"catalog.migrations.{name}")
    first = make_model("1" * 64, path="/m/a.safetensors", size_bytes=10)
    make_model("2" * 64, path="/m/a.safetensors")  # imported data may repeat a path
    make_model("3" * 64, path="")
    ModelLocation.objects.all().delete()

    migration.locations_from_paths(apps, SimpleNamespace(connection=connection))

    assert list(ModelLocation.objects.values_list("model_id", "path", "size_bytes")) == [
        (first.sha256, "/m/a.safetensors", 10)
    ]
    # The others have no location: nowhere on disk. Nothing is deleted.
    assert dict(CatalogModel.objects.values_list("sha256", "missing")) == {
        first.sha256: False,
        "2" * 64: True,
        "3" * 64: True,
    }
