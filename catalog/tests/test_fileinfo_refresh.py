"""Backfill: manage.py refresh_file_info and the refresh_file_info job."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.management import CommandError, call_command

from catalog.models import CatalogModel, FileHash
from catalog.services import file_digest_cached
from catalog.tests import model_files as mf

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_catalog(tmp_path, make_model):
    """Catalog models staged before file intelligence: no file record yet."""
    lora = mf.write_safetensors(
        tmp_path / "lora.safetensors",
        mf.kohya_lora(mf.sd1_lora_modules()),
        {"modelspec.trigger_phrase": "sks"},
    )
    vae = mf.write_safetensors(tmp_path / "sdxl_vae.safetensors", mf.ldm_vae())
    return {
        "lora": make_model("1" * 64, path=str(lora)),
        "vae": make_model("2" * 64, path=str(vae)),
    }


def test_command_reads_every_header_without_hashing(old_catalog, capsys):
    call_command("refresh_file_info", verbosity=1)
    assert "Read 2 headers: 0 could not be read" in capsys.readouterr().out
    lora = CatalogModel.objects.get(pk="1" * 64)
    assert (lora.architecture, lora.kind, lora.base_model) == ("sd1", "lora", "SD 1.5")
    assert lora.file_info["trigger_words"] == ["sks"]
    # The identity is kept; nothing read the data, so no tensor hash.
    assert lora.file_info["hashes"]["sha256"] == "1" * 64
    assert lora.autov2 == "1" * 10
    assert lora.autov1 == lora.file_info["hashes"]["autov1"]
    assert lora.tensor_sha256 == ""
    assert not FileHash.objects.exists()
    vae = CatalogModel.objects.get(pk="2" * 64)
    assert (vae.architecture, vae.kind, vae.base_model) == ("sdxl", "vae", "SDXL 1.0")


def test_a_tensor_hash_from_the_cache_is_used_when_the_cache_holds_the_same_bytes(
    tmp_path, make_model
):
    path = mf.write_safetensors(
        tmp_path / "e.safetensors", {"emb_params": ("F32", (4, 768))}, data=os.urandom(4 * 768 * 4)
    )
    digest = file_digest_cached(path=str(path))
    make_model(digest.sha256, path=str(path))
    call_command("refresh_file_info", verbosity=0)
    model = CatalogModel.objects.get()
    data = path.read_bytes()
    tensor = hashlib.sha256(data[8 + int.from_bytes(data[:8], "little") :]).hexdigest()
    assert model.tensor_sha256 == tensor
    assert model.autov3 == tensor[:12]
    assert model.file_info["hashes"]["autov3"] == tensor[:12]


def test_a_missing_file_keeps_its_record_and_the_command_says_so(old_catalog, make_model):
    call_command("refresh_file_info", verbosity=0)
    before = CatalogModel.objects.get(pk="1" * 64).file_info
    os.remove(old_catalog["lora"].path)
    make_model("3" * 64, path="/nowhere/gone.safetensors")
    with pytest.raises(CommandError, match="2 catalog files were not at their path"):
        call_command("refresh_file_info", verbosity=0)
    assert CatalogModel.objects.get(pk="1" * 64).file_info == before
    assert CatalogModel.objects.get(pk="3" * 64).file_info == {}


def test_an_unreadable_header_is_recorded_as_such(tmp_path, make_model):
    path = tmp_path / "cut.safetensors"
    path.write_bytes((10**6).to_bytes(8, "little") + b"{")
    make_model("4" * 64, path=str(path))
    call_command("refresh_file_info", verbosity=0)
    record = CatalogModel.objects.get().file_info
    assert "past the end of the file" in record["header_error"]
    assert record["architecture"] == "unknown"


def test_refresh_in_batches_covers_every_model(tmp_path, make_model, monkeypatch):
    monkeypatch.setattr("catalog.file_info.REFRESH_BATCH", 3)
    path = mf.write_safetensors(tmp_path / "e.safetensors", {"emb_params": ("F32", (1, 1024))})
    for number in range(8):
        make_model(f"{number:064x}", path=str(path))
    call_command("refresh_file_info", verbosity=0)
    assert set(CatalogModel.objects.values_list("architecture", flat=True)) == {"sd2"}


@pytest.mark.django_db(transaction=True)
def test_the_job_kind_runs_the_same_refresh(old_catalog, api):
    from jobs.models import Job
    from jobs.services import job_execute

    response = api.post("/api/jobs", {"kind": "refresh_file_info", "params": {}}, format="json")
    assert response.status_code in (201, 202), response.json()
    job_id = response.json()["id"]
    # A second identical job while the first is queued answers the first.
    again = api.post("/api/jobs", {"kind": "refresh_file_info", "params": {}}, format="json")
    assert again.json()["id"] == job_id
    job_execute(job_id=job_id)
    job = Job.objects.get(pk=job_id)
    assert job.state == "succeeded", job.error
    assert job.result == {"refreshed": 2, "missing": 0, "header_errors": 0, "missing_paths": []}
    assert (job.progress_done, job.progress_total) == (2, 2)
    assert CatalogModel.objects.get(pk="1" * 64).kind == "lora"


def test_background_submits_the_job(old_catalog, capsys):
    from jobs.models import Job

    call_command("refresh_file_info", "--background")
    job = Job.objects.get()
    assert job.kind == "refresh_file_info"
    assert f"job {job.pk}" in capsys.readouterr().out
