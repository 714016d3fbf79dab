"""Each sidecar reader on the files its tool writes, and on every broken file found in the wild."""

from __future__ import annotations

import base64
import codecs
import json

import pytest

from catalog.fileinfo.sidecars import (
    MAX_SIDECAR_BYTES,
    a1111_json,
    civitai_info,
    cm_info,
    descriptions,
    lora_manager,
    swarm,
)
from catalog.tests.sidecar_helpers import fixture_bytes, fixtures_snapshot

SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
TENSOR = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
HASHES = {
    "sha256": SHA,
    "autov1": "e3b0c442",
    "autov2": SHA[:10],
    "tensor_sha256": TENSOR,
    "autov3": TENSOR[:12],
}


@pytest.fixture(autouse=True, scope="module")
def fixtures_unchanged():
    """After every test of this module: no sidecar fixture file changed (bytes or mtime)."""
    before = fixtures_snapshot()
    yield
    assert fixtures_snapshot() == before


CIVITAI = {
    "model_id": 123,
    "version_id": 456,
    "url": "https://civitai.com/models/123?modelVersionId=456",
}


def read(reader, tool: str, name: str):
    return reader(fixture_bytes(tool, name, HASHES), file_name=name)


def read_hazard(reader, name: str):
    return reader(fixture_bytes("hazards", name), file_name=name)


# AUTOMATIC1111 / Forge / civitai-browser-plus: <base>.json and description files


def test_a1111_json_gives_what_the_lora_editor_saved():
    reading = read(a1111_json.read, "a1111", "zkz_style.json")
    assert reading.source == "json"
    assert reading.facts == {
        "description": "Painterly style LoRA, trained on my own sketches — works best on Pony.",
        "notes": "Use with the café checkpoint; lower the weight for portraits.",
        "trigger_words": ["zkz style", "painterly"],
        "preferred_weight": 0.8,
        "base_model_hint": "SDXL 1.0",
    }
    assert reading.hashes == {}
    assert reading.warnings == []


def test_a1111_description_txt_is_the_description():
    reading = read(descriptions.read_text, "a1111", "zkz_style.txt")
    assert reading.source == "txt"
    assert reading.facts == {
        "description": "A soft painterly look.\nSecond line of the A1111 description file."
    }
    other = descriptions.read_text(b"From the other file.", file_name="zkz.description.txt")
    assert other.source == "description.txt"


def test_civitai_browser_plus_keys_give_the_link_and_an_upper_case_sha256():
    reading = read(a1111_json.read, "civitai_browser_plus", "zkz_style.json")
    assert reading.facts["civitai"] == CIVITAI
    assert reading.facts["trigger_words"] == ["zkz style", "painterly", "brush strokes"]
    assert reading.facts["description"].startswith("Zkz Style — a painterly")
    assert reading.hashes == {"sha256": {SHA}}
    assert "notes" not in reading.facts  # "" is absent


def test_model_not_found_ids_and_other_sd_version_count_as_absent():
    reading = read(a1111_json.read, "civitai_browser_plus", "not_found.json")
    assert reading.facts == {}
    assert reading.hashes == {"sha256": {SHA}}
    assert reading.warnings == []


def test_zixaphir_json_splits_on_bars_and_leaves_out_machine_notes_and_zero_weight():
    reading = read(a1111_json.read, "civitai_helper_zixaphir", "zkz_style.json")
    assert reading.facts == {
        "description": "Zkz Style turns any prompt into a painterly sketch.",
        "trigger_words": ["zkz style", "painterly, soft light"],
    }


# Civitai Helper: <base>.civitai.info


def test_civitai_info_gives_the_version_object_facts():
    reading = read(civitai_info.read, "civitai_helper", "zkz_style.civitai.info")
    assert reading.facts == {
        "name": "Zkz Style",
        "description": "<p>v2.0: retrained on 120 sketches, cleaner lines.</p>",
        "trigger_words": ["zkz style", "painterly, soft light"],  # kept whole
        "base_model": "Pony",
        "nsfw": False,
        "civitai": CIVITAI,
    }
    assert reading.hashes["sha256"] == {SHA}
    assert reading.hashes["autov2"] == {SHA[:10]}
    assert reading.hashes["autov3"] == {TENSOR[:12]}
    assert reading.hashes["blake3"] and reading.hashes["crc32"] == {"1a2b3c4d"}
    assert reading.warnings == []


def test_zixaphir_civitai_info_prefers_the_model_description_and_has_tags():
    reading = read(civitai_info.read, "civitai_helper_zixaphir", "zkz_style.civitai.info")
    assert reading.facts["description"].startswith("<p>Zkz Style turns any prompt")
    assert reading.facts["tags"] == ["style", "painterly", "Sketch"]
    assert reading.warnings == []


@pytest.mark.parametrize(
    ("tool", "name"),
    [
        ("civitai_helper", "unknown.civitai.info"),
        ("civitai_helper_zixaphir", "skeleton.civitai.info"),
    ],
)
def test_civitai_info_placeholders_give_nothing(tool, name):
    reading = read(civitai_info.read, tool, name)
    assert (reading.facts, reading.hashes, reading.warnings) == ({}, {}, [])


# StabilityMatrix: <base>.cm-info.json


def test_cm_info_prefers_the_user_title_and_reads_pascal_case_keys():
    reading = read(cm_info.read, "stability_matrix", "zkz_style.cm-info.json")
    assert reading.facts == {
        "name": "Zkz – my painterly style",
        "description": "<p>Zkz Style turns any prompt into a <b>painterly</b> sketch.</p>",
        "trigger_words": ["zkz style"],
        "base_model": "Pony",
        "tags": ["style", "painterly", "anime"],
        "nsfw": False,
        "civitai": CIVITAI,
    }
    assert reading.hashes["sha256"] == {SHA}
    assert reading.warnings == []


def test_hand_made_cm_info_states_only_blake3_and_has_no_link():
    reading = read(cm_info.read, "stability_matrix", "handmade.cm-info.json")
    assert reading.facts == {
        "name": "my merge",
        "trigger_words": ["mymerge"],
        "base_model": "Illustrious",
        "nsfw": False,
    }
    assert set(reading.hashes) == {"blake3"}


# ComfyUI-Lora-Manager: <base>.metadata.json


def test_lora_manager_metadata_own_keys_then_its_civitai_object():
    reading = read(lora_manager.read, "lora_manager", "zkz_style.metadata.json")
    assert reading.facts == {
        "name": "Zkz Style (LM)",
        "description": "<p>Zkz Style turns any prompt into a <b>painterly</b> sketch.</p>",
        "notes": "Mine: best at 0.6 with Euler a.",
        "tags": ["style", "Painterly", "watercolor"],
        "favorite": True,
        "base_model": "Pony",
        "preferred_weight": 0.6,  # from usage_tips, JSON inside a string
        "trigger_words": ["zkz style", "painterly, soft light"],
        "nsfw": False,
        "civitai": CIVITAI,
    }
    assert reading.hashes["sha256"] == {SHA}
    assert "autov3" not in reading.hashes  # null: not computed
    assert reading.warnings == []


# SwarmUI: <base>.swarm.json


def test_swarm_json_splits_phrases_and_tags_and_reads_the_link_in_the_description():
    reading = read(swarm.read, "swarmui", "zkz_style.swarm.json")
    facts = reading.facts
    assert facts["name"] == "Zkz Style - v2.0"
    assert facts["trigger_words"] == ["zkz style", "painterly", "soft light"]
    assert facts["tags"] == ["style", "painterly", "swarm-tag"]
    assert facts["preferred_weight"] == 0.7
    assert facts["civitai"] == CIVITAI
    assert reading.hashes == {"tensor_sha256": {TENSOR}}  # 0x + tensor hash, not the file's
    assert len(reading.thumbnails) == 1 and reading.thumbnails[0].startswith(b"\x89PNG")
    assert reading.warnings == []


def test_swarm_thumbnail_that_is_an_address_is_not_fetched():
    data = json.dumps({"modelspec.thumbnail": "https://example.com/x.png"}).encode()
    reading = swarm.read(data, file_name="x.swarm.json")
    assert reading.thumbnails == []
    assert reading.warnings == [
        "x.swarm.json: modelspec.thumbnail is not a data:image base64 URI; ignored"
    ]


def test_swarm_thumbnail_with_broken_base64_is_skipped_with_a_warning():
    data = json.dumps({"modelspec.thumbnail": "data:image/png;base64,@@@@"}).encode()
    reading = swarm.read(data, file_name="x.swarm.json")
    assert reading.thumbnails == []
    assert reading.warnings == ["x.swarm.json: modelspec.thumbnail is not valid base64; ignored"]


# ComfyUI-Model-Manager: <base>.md


def test_markdown_body_is_the_description_without_the_front_matter():
    reading = read(descriptions.read_markdown, "model_manager", "zkz_style.md")
    assert reading.facts["description"].startswith("# Trigger Words\n\nzkz style, painterly")
    assert "modelPage" not in reading.facts["description"]
    assert reading.facts["trigger_words"] == ["zkz style", "painterly"]
    assert reading.facts["base_model"] == "Pony"
    assert reading.facts["civitai"] == CIVITAI
    assert reading.hashes["sha256"] == {SHA}
    assert reading.warnings == []


def test_markdown_with_broken_front_matter_keeps_its_body():
    data = b"---\nmodelPage: [unclosed\n---\nJust the body."
    reading = descriptions.read_markdown(data, file_name="x.md")
    assert reading.facts == {"description": "Just the body."}
    assert reading.warnings == ["x.md: front matter is not YAML; only the body was read"]


def test_markdown_without_front_matter_is_all_description():
    reading = descriptions.read_markdown(b"# Zkz\n\nHello.", file_name="x.md")
    assert reading.facts == {"description": "# Zkz\n\nHello."}


# Hazards: every way a sidecar was found broken


@pytest.mark.parametrize(
    ("reader", "name", "warning"),
    [
        (a1111_json.read, "empty.json", "empty.json: is empty"),
        (cm_info.read, "not_json.cm-info.json", "not_json.cm-info.json: not JSON ("),
        (a1111_json.read, "list.json", "list.json: holds a JSON list, not an object"),
    ],
)
def test_unreadable_sidecars_give_nothing_and_one_warning(reader, name, warning):
    reading = read_hazard(reader, name)
    assert reading.facts == {}
    assert len(reading.warnings) == 1 and reading.warnings[0].startswith(warning)


def test_empty_object_is_a_placeholder_without_warning():
    reading = read_hazard(civitai_info.read, "braces.civitai.info")
    assert (reading.facts, reading.warnings) == ({}, [])


def test_utf8_byte_order_mark_is_dropped_and_the_file_read():
    reading = read_hazard(a1111_json.read, "bom.json")
    assert reading.facts["description"] == "Saved by Windows Notepad"
    assert reading.facts["trigger_words"] == ["bom style"]
    assert reading.facts["preferred_weight"] == 1.1
    assert reading.warnings == ["bom.json: starts with a UTF-8 byte order mark; read without it"]


def test_windows_1252_bytes_are_read_as_windows_1252():
    text = read_hazard(descriptions.read_text, "cp1252.txt")
    assert text.facts == {"description": "Café style “quoted” by hand – Windows-1252"}
    assert text.warnings == ["cp1252.txt: is not UTF-8; read as Windows-1252"]
    info = read_hazard(civitai_info.read, "cp1252.civitai.info")
    assert info.facts["name"] == "Café Crème"
    assert info.facts["trigger_words"] == ["crème"]


def test_utf16_text_is_read():
    reading = read_hazard(descriptions.read_text, "utf16.txt")
    assert reading.facts == {"description": "Saved as Unicode by Notepad: café"}
    assert reading.warnings == ["utf16.txt: is UTF-16 text; read as such"]


def test_nan_is_accepted_and_dropped_where_a_number_is_wanted():
    reading = read_hazard(a1111_json.read, "nan.json")
    assert reading.facts == {
        "description": "weight lost to NaN",
        "trigger_words": ["nan style"],
        "base_model_hint": "SD 1.5",
    }
    assert reading.warnings == ["nan.json: preferred weight is NaN; ignored"]
    metadata = read_hazard(lora_manager.read, "nan.metadata.json")
    assert metadata.facts == {"name": "NaN model", "favorite": False}
    assert metadata.warnings == ["nan.metadata.json: usage_tips.strength is NaN; ignored"]


def test_wrong_types_are_coerced_or_dropped_each_with_a_warning():
    reading = read_hazard(lora_manager.read, "wrong_types.metadata.json")
    assert reading.facts == {
        "name": "42",
        "tags": ["style", "painterly"],
        "favorite": True,
        "trigger_words": ["ok word", "7"],
    }
    assert reading.hashes == {}
    assert reading.warnings == [
        "wrong_types.metadata.json: modelDescription is a boolean, not text; ignored",
        "wrong_types.metadata.json: notes is a list, not text; ignored",
        "wrong_types.metadata.json: base_model is an object, not text; ignored",
        "wrong_types.metadata.json: trainedWords: 2 item(s) that are not text ignored",
        "wrong_types.metadata.json: usage_tips is not JSON; ignored",
        "wrong_types.metadata.json: sha256 hash is a number, not text; ignored",
    ]


def test_a_sidecar_over_16_mib_is_skipped_unread():
    data = b'{"description": "' + b"x" * MAX_SIDECAR_BYTES + b'"}'
    reading = a1111_json.read(data, file_name="huge.json")
    assert reading.facts == {}
    assert reading.warnings == ["huge.json: larger than 16 MiB; skipped"]


def test_json_nested_too_deeply_is_a_warning_not_a_crash():
    reading = a1111_json.read(b"[" * 200_000, file_name="deep.json")
    assert reading.facts == {}
    assert len(reading.warnings) == 1 and "not JSON" in reading.warnings[0]


def test_long_text_and_long_lists_are_cut_with_a_warning():
    data = json.dumps(
        {"description": "d" * 70_000, "activation text": ", ".join(f"w{i}" for i in range(300))}
    ).encode()
    reading = a1111_json.read(data, file_name="long.json")
    assert len(reading.facts["description"]) == 64 * 1024
    assert len(reading.facts["trigger_words"]) == 128
    assert len(reading.warnings) == 2


def test_hashes_with_a_prefix_or_the_wrong_length_are_handled():
    data = json.dumps({"sha256": "0x" + SHA.upper()}).encode()
    assert a1111_json.read(data, file_name="a.json").hashes == {"sha256": {SHA}}
    short = a1111_json.read(json.dumps({"sha256": "ABCDEF"}).encode(), file_name="b.json")
    assert short.hashes == {}
    assert short.warnings == ["b.json: sha256 hash 'ABCDEF' is not 64 hex digits; ignored"]


def test_a_bom_before_a_swarm_thumbnail_still_decodes_it():
    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    data = codecs.BOM_UTF8 + json.dumps({"modelspec.thumbnail": uri}).encode()
    assert swarm.read(data, file_name="x.swarm.json").thumbnails == [png]
