"""Folder scan and bulk hashing: the service and POST /api/models/scan."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from catalog.models import FileHash
from config.api import InvalidInput, NotConfigured
from migration_app.models import PendingModel
from migration_app.services.folder_scan import folder_scan
from migration_app.services.pending_hashing import pending_files_hash
from migration_app.tests.conftest import sha256_of

pytestmark = pytest.mark.django_db

URL = "/api/models/scan"


@pytest.fixture
def tree(tmp_path) -> Path:
    """Model folders with subfolders, non-model files, a symlink loop, a dangling
    link, and a loras folder also reachable through a second root."""
    base = tmp_path / "models"
    checkpoints = base / "checkpoints"
    (checkpoints / "sub" / "deeper").mkdir(parents=True)
    (checkpoints / "a.safetensors").write_bytes(b"a" * 10)
    (checkpoints / "sub" / "b.ckpt").write_bytes(b"b" * 20)
    (checkpoints / "sub" / "deeper" / "C.GGUF").write_bytes(b"c" * 30)
    (checkpoints / "notes.txt").write_text("not a model")
    (checkpoints / "preview.png").write_bytes(b"png")
    (checkpoints / "sub" / "loop").symlink_to(checkpoints, target_is_directory=True)
    (checkpoints / "dangling.safetensors").symlink_to(tmp_path / "absent.safetensors")
    loras = base / "loras"
    loras.mkdir()
    (loras / "l1.safetensors").write_bytes(b"l1")
    (loras / "l2.pt").write_bytes(b"l2")
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "shared").symlink_to(loras, target_is_directory=True)
    return tmp_path


@pytest.fixture
def roots(tree, settings):
    settings.MODEL_ROOTS = {
        # Not normalised on purpose: the scan stores normalised paths.
        "checkpoints": [f"{tree}/models/./checkpoints/"],
        "loras": [str(tree / "models" / "loras"), str(tree / "extra")],
        "vae": [str(tree / "no_such_folder")],
    }
    return tree


def pending_paths() -> dict[str, str]:
    return dict(PendingModel.objects.values_list("path", "type"))


def test_scan_stages_each_model_file_once(roots):
    result = folder_scan()
    tree = roots / "models"
    assert pending_paths() == {
        str(tree / "checkpoints" / "a.safetensors"): "checkpoints",
        str(tree / "checkpoints" / "sub" / "b.ckpt"): "checkpoints",
        str(tree / "checkpoints" / "sub" / "deeper" / "C.GGUF"): "checkpoints",
        str(tree / "loras" / "l1.safetensors"): "loras",
        str(tree / "loras" / "l2.pt"): "loras",
    }
    assert (result.scanned, result.pending_added, result.skipped) == (5, 5, 0)
    assert sorted(result.pending_ids) == sorted(PendingModel.objects.values_list("pk", flat=True))
    assert result.missing_roots == [str(roots / "no_such_folder")]


def test_scanned_rows_carry_name_size_and_modification_time(roots):
    path = roots / "models" / "checkpoints" / "sub" / "b.ckpt"
    os.utime(path, ns=(1_700_000_000_123_456_789, 1_700_000_000_123_456_789))
    folder_scan()
    pending = PendingModel.objects.get(path=str(path))
    assert (pending.name, pending.size_bytes, pending.created_at) == (
        "b.ckpt",
        20,
        1_700_000_000_123,
    )
    assert pending.sha256 == ""  # scanning does not hash


def test_files_in_the_catalog_or_pending_are_skipped(roots, make_model):
    checkpoints = roots / "models" / "checkpoints"
    make_model(path=str(checkpoints / "a.safetensors"))
    PendingModel.objects.create(path=str(checkpoints / "sub" / "b.ckpt"))
    result = folder_scan()
    assert (result.scanned, result.pending_added, result.skipped) == (5, 3, 2)
    again = folder_scan()
    assert (again.scanned, again.pending_added, again.skipped, again.pending_ids) == (5, 0, 5, [])


def test_a_folder_configured_for_its_own_type_wins_over_a_parent_root(tree, settings):
    settings.MODEL_ROOTS = {
        "checkpoints": [str(tree / "models")],
        "loras": [str(tree / "models" / "loras")],
    }
    result = folder_scan()
    assert result.scanned == 5
    types = pending_paths()
    assert types[str(tree / "models" / "loras" / "l1.safetensors")] == "loras"
    assert types[str(tree / "models" / "checkpoints" / "a.safetensors")] == "checkpoints"


def test_scan_of_one_type_accepts_its_singular_name(roots):
    result = folder_scan(model_type="lora")
    assert (result.scanned, result.pending_added) == (2, 2)
    assert set(pending_paths().values()) == {"loras"}


def test_unknown_type_and_missing_roots_are_refused(roots, settings):
    with pytest.raises(InvalidInput, match="checkpoints, loras, vae"):
        folder_scan(model_type="nope")
    settings.MODEL_ROOTS = {}
    with pytest.raises(NotConfigured):
        folder_scan()
    assert not PendingModel.objects.exists()


def test_scan_route_answers_the_counts(api, roots):
    response = api.post(URL, {}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "success",
        "scanned": 5,
        "pending_added": 5,
        "relinked": 0,
        "skipped": 0,
        "file_info_refreshed": 0,
        "sidecars": 0,
        "pending_ids": body["pending_ids"],
    }
    assert sorted(body["pending_ids"]) == sorted(PendingModel.objects.values_list("pk", flat=True))
    again = api.post(URL, {"type": "loras"}, format="json").json()
    assert (again["scanned"], again["pending_added"], again["skipped"]) == (2, 0, 2)


def test_scan_route_without_a_body_scans_everything(api, roots):
    assert api.post(URL).json()["scanned"] == 5


def test_scan_route_unknown_type_is_400(api, roots):
    response = api.post(URL, {"type": "nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_type"
    assert api.post(URL, {"type": 5}, format="json").status_code == 400
    assert not PendingModel.objects.exists()


def test_scan_route_without_roots_is_503_saying_how_to_configure(api):
    response = api.post(URL, {}, format="json")
    assert response.status_code == 503
    assert "MODEL_ROOTS" in response.json()["error"]
    assert "COMFYUI_PATH" in response.json()["error"]


def test_hashing_fills_the_cache_and_the_pending_sha256(roots, make_pending):
    folder_scan()
    vanished = make_pending("gone.safetensors", b"gone")
    os.remove(vanished.path)
    result = pending_files_hash(workers=1)
    assert result.hashed == 5
    assert [(path, reason.split(" (")[0]) for path, reason in result.failed] == [
        (vanished.path, "the file does not exist")
    ]
    lora = roots / "models" / "loras" / "l1.safetensors"
    assert PendingModel.objects.get(path=str(lora)).sha256 == sha256_of(b"l1")
    assert FileHash.objects.get(path=str(lora)).sha256 == sha256_of(b"l1")
    assert FileHash.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_hashing_in_threads_gives_the_same_digests(roots):
    folder_scan()
    result = pending_files_hash(workers=3)
    assert (result.hashed, result.bytes, result.failed) == (5, 64, [])
    for path, sha256 in PendingModel.objects.values_list("path", "sha256"):
        assert sha256 == sha256_of(Path(path).read_bytes())
