"""The walk of the model roots: each file reported once, whatever links reach it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migration_app.models import PendingModel
from migration_app.services.folder_scan import folder_scan
from migration_app.services.model_walk import model_files_walk


def walked(*roots: Path, listings: dict | None = None) -> list[str]:
    return [
        found.path
        for files in model_files_walk([("loras", str(root)) for root in roots], listings=listings)
        for found in files
    ]


def model(path: Path, content: bytes = b"weights") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_hard_links_are_one_file_under_the_first_path(tmp_path):
    first = model(tmp_path / "a" / "one.safetensors")
    (tmp_path / "b").mkdir()
    os.link(first, tmp_path / "b" / "again.safetensors")
    os.link(first, tmp_path / "a" / "two.safetensors")
    plain = model(tmp_path / "b" / "plain.safetensors")
    assert walked(tmp_path) == [str(first), str(plain)]


@pytest.mark.parametrize("link_folder", ["a", "m", "z"])
def test_a_symlink_to_a_walked_file_is_not_reported(tmp_path, link_folder):
    """The target is reported under its own path whether its folder comes
    before, is, or comes after the symlink's folder."""
    target = model(tmp_path / "m" / "real.safetensors")
    (tmp_path / link_folder).mkdir(exist_ok=True)
    (tmp_path / link_folder / "alias.safetensors").symlink_to(target)
    (tmp_path / link_folder / "zz.safetensors").symlink_to(target)
    assert walked(tmp_path) == [str(target)]


def test_a_symlink_to_a_file_outside_the_roots_is_reported_once(tmp_path):
    outside = model(tmp_path / "outside" / "shared.safetensors")
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "a" / "first.safetensors").symlink_to(outside)
    (root / "a" / "second.safetensors").symlink_to(root / "a" / "first.safetensors")
    plain = model(root / "b" / "plain.safetensors")
    listings: dict = {}
    assert walked(root, listings=listings) == [str(plain), str(root / "a" / "first.safetensors")]
    # The folder holding only a symlink is listed for its sidecars all the same.
    assert listings[str(root / "a")] == ["first.safetensors", "second.safetensors"]


def test_a_symlink_to_a_blob_without_a_model_name_is_reported(tmp_path):
    """Hugging Face's cache: snapshots/<rev>/model.safetensors -> blobs/<sha256>."""
    blob = model(tmp_path / "blobs" / ("ab" * 32))
    (tmp_path / "snapshots" / "main").mkdir(parents=True)
    (tmp_path / "snapshots" / "main" / "model.safetensors").symlink_to(blob)
    assert walked(tmp_path) == [str(tmp_path / "snapshots" / "main" / "model.safetensors")]


def test_a_symlink_to_a_hard_linked_file_is_not_reported(tmp_path):
    target = model(tmp_path / "z" / "real.safetensors")
    os.link(target, tmp_path / "outside.bin.bak")  # a second link, not a model name
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "alias.safetensors").symlink_to(target)
    assert walked(tmp_path) == [str(target)]


@pytest.mark.django_db
def test_a_rescan_keeps_linked_files_staged_once(tmp_path, settings):
    target = model(tmp_path / "loras" / "real.safetensors")
    os.link(target, tmp_path / "loras" / "hard.safetensors")
    (tmp_path / "loras" / "soft.safetensors").symlink_to(target)
    settings.MODEL_ROOTS = {"loras": [str(tmp_path / "loras")]}
    assert folder_scan().pending_added == 1
    assert folder_scan().pending_added == 0
    assert list(PendingModel.objects.values_list("path", flat=True)) == [
        str(tmp_path / "loras" / "hard.safetensors")
    ]
