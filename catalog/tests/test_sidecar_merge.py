"""Finding a model's sidecars by name, reading them from disk, and merging them by precedence."""

from __future__ import annotations

import io
import os
import shutil

import pytest
from PIL import Image

from catalog.fileinfo.sidecars import (
    MAX_SIDECAR_BYTES,
    companions_find,
    companions_group,
    model_base,
    sidecars_load,
    sidecars_merge,
)
from catalog.fileinfo.sidecars.files import READERS
from catalog.tests.sidecar_helpers import (
    FIXTURES,
    TOOLS,
    file_hashes,
    fixture_copy,
    fixtures_snapshot,
    write_safetensors,
)


@pytest.fixture(autouse=True, scope="module")
def fixtures_unchanged():
    """After every test of this module: no sidecar fixture file changed (bytes or mtime)."""
    before = fixtures_snapshot()
    yield
    assert fixtures_snapshot() == before


@pytest.fixture
def model(tmp_path):
    """A real LoRA file ``loras/zkz_style.safetensors`` and its hashes."""
    folder = tmp_path / "loras"
    folder.mkdir()
    path = write_safetensors(folder / "zkz_style.safetensors")
    return path, file_hashes(path)


def snapshot(folder) -> dict[str, tuple[bytes, int]]:
    return {
        entry.name: (entry.read_bytes(), entry.stat().st_mtime_ns)
        for entry in folder.iterdir()
        if entry.is_file()
    }


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


# Grouping a folder's names by <base>


def test_model_base_is_the_name_without_its_last_extension():
    assert model_base("zkz.v2.safetensors") == "zkz.v2"
    assert model_base(".hidden") == ".hidden"
    assert model_base("noext") == "noext"


def test_companions_are_found_by_suffix_in_precedence_and_preview_order():
    names = [
        "zkz.safetensors",
        "zkz.civitai.info",
        "zkz.JSON",
        "zkz.metadata.json",
        "zkz.metadata.json.tmp",  # LoRA Manager's interrupted write: not a sidecar
        "zkz.thumb.jpg",
        "zkz.preview.png",
        "zkz.webp",
        "zkz.png",
        "zkz.txt",
        "other.json",  # no model "other"
    ]
    grouped = companions_group(sorted(names), ["zkz.safetensors"])
    assert list(grouped) == ["zkz.safetensors"]
    companions = grouped["zkz.safetensors"]
    assert companions.sidecars == {
        "json": "zkz.JSON",
        "metadata.json": "zkz.metadata.json",
        "civitai.info": "zkz.civitai.info",
        "txt": "zkz.txt",
    }
    assert companions.previews == ["zkz.png", "zkz.webp", "zkz.preview.png", "zkz.thumb.jpg"]


def test_longest_suffix_wins_unless_only_the_shorter_names_a_model():
    names = ["a.metadata.json", "b.metadata.json", "a.safetensors", "b.metadata.ckpt"]
    grouped = companions_group(names, ["a.safetensors", "b.metadata.ckpt"])
    assert grouped["a.safetensors"].sidecars == {"metadata.json": "a.metadata.json"}
    assert grouped["b.metadata.ckpt"].sidecars == {"json": "b.metadata.json"}


def test_models_sharing_a_base_share_companions_and_a_base_matches_in_any_case():
    names = ["Zkz.safetensors", "Zkz.ckpt", "zkz.civitai.info", "lone.safetensors"]
    grouped = companions_group(names, ["Zkz.safetensors", "Zkz.ckpt", "lone.safetensors"])
    assert grouped["Zkz.safetensors"].sidecars == {"civitai.info": "zkz.civitai.info"}
    assert grouped["Zkz.ckpt"].sidecars == {"civitai.info": "zkz.civitai.info"}
    assert "lone.safetensors" not in grouped


def test_grouping_pairs_every_model_of_a_large_folder():
    names, models = [], []
    for index in range(20_000):
        models.append(f"m{index}.safetensors")
        names += [f"m{index}.safetensors", f"m{index}.json", f"m{index}.preview.png"]
    grouped = companions_group(names, models)
    assert len(grouped) == 20_000
    assert grouped["m7.safetensors"].previews == ["m7.preview.png"]


# Reading from disk


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_folder_loads_beside_a_real_model_with_its_hash_checked(model, tool):
    path, hashes = model
    fixture_copy(tool, path.parent, hashes)
    before = snapshot(path.parent)
    sidecars = sidecars_load(str(path), hashes=hashes)
    record = sidecars.as_dict()
    assert record["sources"], record
    assert not any("describes other bytes" in warning for warning in record["warnings"]), record
    assert snapshot(path.parent) == before  # read-only: bytes and mtimes unchanged


def test_three_tools_disagree_and_precedence_decides(model):
    path, hashes = model
    for tool in ("a1111", "lora_manager", "stability_matrix", "civitai_helper"):
        fixture_copy(tool, path.parent, hashes)
    (path.parent / "zkz_style.preview.png").write_bytes(jpeg_bytes())
    record = sidecars_load(str(path), hashes=hashes).as_dict()
    assert record == {
        "sources": ["json", "metadata.json", "cm-info.json", "civitai.info", "txt"],
        # A1111 has no name; LoRA Manager's comes before StabilityMatrix's UserTitle.
        "name": "Zkz Style (LM)",
        "description": "Painterly style LoRA, trained on my own sketches — works best on Pony.",
        "trigger_words": ["zkz style", "painterly", "painterly, soft light"],
        # LoRA Manager's label, not the A1111 "sd version" hint (SDXL 1.0).
        "base_model": "Pony",
        "tags": ["style", "Painterly", "watercolor", "anime"],
        "nsfw": False,
        "favorite": True,
        "preferred_weight": 0.8,
        "notes": "Use with the café checkpoint; lower the weight for portraits.",
        "civitai": {
            "model_id": 123,
            "version_id": 456,
            "url": "https://civitai.com/models/123?modelVersionId=456",
        },
        "previews": [str(path.parent / "zkz_style.preview.png")],
        "warnings": [],
    }


def test_a1111_sd_version_is_the_base_model_only_when_nothing_names_one(model):
    path, hashes = model
    fixture_copy("a1111", path.parent, hashes)
    assert sidecars_load(str(path), hashes=hashes).as_dict()["base_model"] == "SDXL 1.0"


def test_a_sidecar_describing_other_bytes_is_dropped_once_the_file_is_hashed(model):
    path, hashes = model
    shutil.copyfile(
        FIXTURES / "hazards" / "other_bytes.civitai.info", path.parent / "zkz_style.civitai.info"
    )
    fixture_copy("a1111", path.parent, hashes)
    unhashed = sidecars_load(str(path)).as_dict()
    assert unhashed["name"] == "A Different Model"  # not checked yet: nothing to check against
    checked = sidecars_load(str(path), hashes={"sha256": hashes["sha256"]}).as_dict()
    assert "name" not in checked
    assert checked["sources"] == ["json", "txt"]
    assert checked["trigger_words"] == ["zkz style", "painterly"]
    assert checked["warnings"] == [
        "zkz_style.civitai.info: describes other bytes (its SHA-256 is not this file's); ignored"
    ]


def test_stated_hashes_match_in_any_case_and_any_listed_file(model):
    path, hashes = model
    fixture_copy("civitai_helper", path.parent, hashes)
    info = path.parent / "zkz_style.civitai.info"
    text = info.read_text()
    # A second file of the same version (a pruned variant) is listed first.
    info.write_text(
        text.replace('"files": [', '"files": [{"hashes": {"SHA256": "' + "AB" * 32 + '"}},', 1)
    )
    record = sidecars_load(str(path), hashes={"sha256": hashes["sha256"].upper()}).as_dict()
    assert record["sources"] == ["civitai.info"]


def test_swarm_tensor_hash_is_checked_only_against_a_tensor_hash(model):
    path, hashes = model
    fixture_copy("swarmui", path.parent, {**hashes, "tensor_sha256": "cd" * 32})
    only_sha = sidecars_load(str(path), hashes={"sha256": hashes["sha256"]})
    assert only_sha.sources == ["swarm.json"]
    assert len(only_sha.thumbnails) == 1
    full = sidecars_load(str(path), hashes=hashes)
    assert full.sources == [] and full.thumbnails == []
    assert full.warnings == [
        "zkz_style.swarm.json: describes other bytes "
        "(its tensor SHA-256 is not this file's); ignored"
    ]


def test_autov2_is_derived_from_the_sha256_for_the_check(model):
    path, hashes = model
    (path.parent / "zkz_style.md").write_text(
        "---\nhashes:\n  AutoV2: '0123456789'\n---\nBody\n", encoding="utf-8"
    )
    record = sidecars_load(str(path), hashes={"sha256": hashes["sha256"]}).as_dict()
    assert record["sources"] == []
    assert "its AutoV2 hash is not this file's" in record["warnings"][0]


def test_blake3_only_cannot_be_checked_and_is_kept(model):
    path, hashes = model
    shutil.copyfile(
        FIXTURES / "stability_matrix" / "handmade.cm-info.json",
        path.parent / "zkz_style.cm-info.json",
    )
    assert sidecars_load(str(path), hashes=hashes).as_dict()["name"] == "my merge"


def test_every_hazard_at_once_never_fails_and_says_what_it_skipped(model):
    path, hashes = model
    folder = path.parent
    renames = {
        "bom.json": "zkz_style.json",
        "cp1252.txt": "zkz_style.txt",
        "not_json.cm-info.json": "zkz_style.cm-info.json",
        "nan.metadata.json": "zkz_style.metadata.json",
        "braces.civitai.info": "zkz_style.civitai.info",
        "utf16.txt": "zkz_style.description.txt",
    }
    for source, target in renames.items():
        shutil.copyfile(FIXTURES / "hazards" / source, folder / target)
    # 17 MiB, sparse: costs no disk and is never read.
    with open(folder / "zkz_style.swarm.json", "wb") as handle:
        handle.truncate(17 * 1024 * 1024)
    (folder / "zkz_style.preview.png").write_bytes(jpeg_bytes())  # a JPEG named .png
    os.mkdir(folder / "zkz_style.md")  # a folder named like a sidecar
    before = snapshot(folder)
    record = sidecars_load(str(path), hashes=hashes).as_dict()
    assert record["sources"] == ["json", "metadata.json", "txt", "description.txt"]
    assert record["name"] == "NaN model"
    assert record["description"] == "Saved by Windows Notepad"
    assert record["previews"] == [str(folder / "zkz_style.preview.png")]
    warnings = "\n".join(record["warnings"])
    for expected in (
        "zkz_style.json: starts with a UTF-8 byte order mark",
        "zkz_style.metadata.json: usage_tips.strength is NaN",
        "zkz_style.cm-info.json: not JSON",
        "zkz_style.swarm.json: larger than 16 MiB; skipped",
        "zkz_style.md: not a regular file; skipped",
        "zkz_style.txt: is not UTF-8; read as Windows-1252",
        "zkz_style.description.txt: is UTF-16 text",
    ):
        assert expected in warnings
    assert snapshot(folder) == before


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_named_pipe_called_like_a_sidecar_is_skipped_without_blocking(model):
    path, _ = model
    os.mkfifo(path.parent / "zkz_style.json")
    record = sidecars_load(str(path)).as_dict()
    assert record["warnings"] == ["zkz_style.json: not a regular file; skipped"]


def test_a_model_without_companions_has_an_empty_record(model):
    path, hashes = model
    assert sidecars_load(str(path), hashes=hashes).as_dict() == {}
    assert not companions_find(str(path))
    assert not companions_find(str(path.parent / "missing" / "x.safetensors"))


def test_merge_of_nothing_is_empty_and_the_readers_cover_every_source():
    assert sidecars_merge([]).as_dict() == {}
    assert set(READERS) == {
        "json",
        "metadata.json",
        "cm-info.json",
        "swarm.json",
        "civitai.info",
        "md",
        "txt",
        "description.txt",
    }


def test_sidecar_size_limit_is_16_mib():
    assert MAX_SIDECAR_BYTES == 16 * 1024 * 1024
