"""Settings readers and model-root discovery (config/env.py), with temporary folders."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    discover_comfyui_roots,
    env_bool,
    env_int,
    env_list,
    model_roots_from,
    parse_model_roots,
    secret_key_from,
)


def norm(path: Path | str) -> str:
    return os.path.normpath(os.path.abspath(path))


# --- MODEL_ROOTS ------------------------------------------------------------------


def test_parse_model_roots_reads_type_folder_pairs_and_repeated_types(tmp_path):
    raw = f"checkpoints={tmp_path}/ckpt;loras={tmp_path}/loras;loras={tmp_path}/more"

    assert parse_model_roots(raw) == {
        "checkpoints": [norm(tmp_path / "ckpt")],
        "loras": [norm(tmp_path / "loras"), norm(tmp_path / "more")],
    }


def test_parse_model_roots_skips_blank_parts_trims_and_normalises(tmp_path):
    raw = f" ; loras = {tmp_path}/a/../loras/ ;;vae={tmp_path}/vae;loras={tmp_path}/loras; "

    assert parse_model_roots(raw) == {
        "loras": [norm(tmp_path / "loras")],
        "vae": [norm(tmp_path / "vae")],
    }


def test_parse_model_roots_of_an_empty_value_is_empty():
    assert parse_model_roots("") == {}
    assert parse_model_roots(" ; ") == {}


def test_parse_model_roots_keeps_an_equals_sign_inside_the_folder(tmp_path):
    assert parse_model_roots(f"loras={tmp_path}/a=b") == {"loras": [norm(tmp_path / "a=b")]}


@pytest.mark.parametrize(
    "raw", ["garbage", "=/m/loras", "loras=", "loras=  ", "checkpoints=/m/c;oops", "others=/m/x"]
)
def test_malformed_model_roots_raise_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="MODEL_ROOTS"):
        parse_model_roots(raw)


def test_model_roots_from_merges_comfyui_and_model_roots(tmp_path):
    (tmp_path / "comfy" / "models" / "loras").mkdir(parents=True)
    environ = {
        "COMFYUI_PATH": str(tmp_path / "comfy"),
        "MODEL_ROOTS": f"loras={tmp_path}/extra;vae={tmp_path}/vae",
    }

    assert model_roots_from(environ) == {
        "loras": [norm(tmp_path / "comfy/models/loras"), norm(tmp_path / "extra")],
        "vae": [norm(tmp_path / "vae")],
    }


def test_model_roots_from_an_empty_environment_is_empty():
    assert model_roots_from({}) == {}


# --- COMFYUI_PATH -----------------------------------------------------------------


@pytest.fixture
def comfy(tmp_path) -> Path:
    root = tmp_path / "ComfyUI"
    for name in ("checkpoints", "loras", "vae"):
        (root / "models" / name).mkdir(parents=True)
    (root / "models" / ".cache").mkdir()
    (root / "models" / "put_models_here.txt").write_text("")
    return root


def write_yaml(comfy: Path, text: str) -> None:
    (comfy / "extra_model_paths.yaml").write_text(text, encoding="utf-8")


def test_discover_lists_model_subfolders_but_not_files_or_hidden_folders(comfy):
    assert discover_comfyui_roots(str(comfy)) == {
        "checkpoints": [norm(comfy / "models/checkpoints")],
        "loras": [norm(comfy / "models/loras")],
        "vae": [norm(comfy / "models/vae")],
    }


def test_discover_without_a_models_folder_or_yaml_is_empty(tmp_path):
    assert discover_comfyui_roots(str(tmp_path)) == {}


def test_extra_model_paths_with_a_relative_base_path_and_multi_line_lists(comfy):
    write_yaml(
        comfy,
        "a111:\n"
        "    base_path: ../sd-webui\n"
        "    checkpoints: models/Stable-diffusion\n"
        "    loras: |\n"
        "        models/Lora\n"
        "        models/LyCORIS\n"
        "    upscale_models: |\n"
        "                  models/ESRGAN\n"
        "                  models/RealESRGAN\n",
    )
    webui = comfy.parent / "sd-webui"

    roots = discover_comfyui_roots(str(comfy))

    assert roots["checkpoints"] == [
        norm(comfy / "models/checkpoints"),
        norm(webui / "models/Stable-diffusion"),
    ]
    assert roots["loras"] == [
        norm(comfy / "models/loras"),
        norm(webui / "models/Lora"),
        norm(webui / "models/LyCORIS"),
    ]
    assert roots["upscale_models"] == [
        norm(webui / "models/ESRGAN"),
        norm(webui / "models/RealESRGAN"),
    ]


def test_extra_model_paths_with_an_absolute_base_path_and_absolute_folders(comfy, tmp_path):
    shared = tmp_path / "shared"
    write_yaml(
        comfy,
        f"shared:\n"
        f"    base_path: {shared}\n"
        f"    is_default: true\n"
        f"    loras: loras\n"
        f"    vae: {tmp_path}/elsewhere/vae\n",
    )

    roots = discover_comfyui_roots(str(comfy))

    assert roots["loras"] == [norm(comfy / "models/loras"), norm(shared / "loras")]
    assert roots["vae"] == [norm(comfy / "models/vae"), norm(tmp_path / "elsewhere/vae")]
    assert "is_default" not in roots and "base_path" not in roots


def test_extra_model_paths_section_without_base_path_is_relative_to_the_yaml_folder(
    comfy, tmp_path, monkeypatch
):
    # ComfyUI resolves such folders against the YAML's folder, not the working directory.
    monkeypatch.chdir(tmp_path)
    write_yaml(comfy, f"plain:\n    loras: extra/loras\n    vae: {tmp_path}/abs/vae\n")

    roots = discover_comfyui_roots(str(comfy))

    assert roots["loras"] == [norm(comfy / "models/loras"), norm(comfy / "extra/loras")]
    assert roots["vae"] == [norm(comfy / "models/vae"), norm(tmp_path / "abs/vae")]


def test_extra_model_paths_base_path_expands_variables_and_home(comfy, tmp_path, monkeypatch):
    monkeypatch.setenv("MODELS_HOME", str(tmp_path / "store"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    write_yaml(
        comfy,
        "one:\n    base_path: $MODELS_HOME/sd\n    loras: loras\n"
        "two:\n    base_path: ~/models\n    vae: vae\n",
    )

    roots = discover_comfyui_roots(str(comfy))

    assert roots["loras"][-1] == norm(tmp_path / "store/sd/loras")
    assert roots["vae"][-1] == norm(tmp_path / "home/models/vae")


def test_extra_model_paths_accepts_a_yaml_list_of_folders(comfy):
    write_yaml(comfy, "s:\n    base_path: /srv\n    loras:\n      - a\n      - b\n")

    assert discover_comfyui_roots(str(comfy))["loras"][1:] == [norm("/srv/a"), norm("/srv/b")]


def test_extra_model_paths_ignores_custom_nodes_and_empty_sections(comfy):
    write_yaml(
        comfy,
        "empty:\n"
        "other_ui:\n"
        "    base_path: /srv/ui\n"
        "    custom_nodes: custom_nodes\n"
        "    gligen: models/gligen\n"
        "    controlnet:\n",
    )

    roots = discover_comfyui_roots(str(comfy))

    assert "custom_nodes" not in roots
    assert roots["gligen"] == [norm("/srv/ui/models/gligen")]
    assert "controlnet" not in roots


def test_an_empty_extra_model_paths_file_adds_nothing(comfy):
    write_yaml(comfy, "# everything commented out\n")

    assert sorted(discover_comfyui_roots(str(comfy))) == ["checkpoints", "loras", "vae"]


@pytest.mark.parametrize(
    "text", ["a111:\n  base_path: [unclosed\n", "key: value: other\n", "- just\n- a list\n"]
)
def test_invalid_extra_model_paths_raise_naming_comfyui_path(comfy, text):
    write_yaml(comfy, text)

    with pytest.raises(ImproperlyConfigured, match="COMFYUI_PATH"):
        discover_comfyui_roots(str(comfy))


def test_comfyui_path_that_is_not_a_folder_raises_naming_it(tmp_path):
    with pytest.raises(ImproperlyConfigured, match="COMFYUI_PATH"):
        discover_comfyui_roots(str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="COMFYUI_PATH"):
        model_roots_from({"COMFYUI_PATH": str(tmp_path / "missing")})


# --- small readers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("true", True),
        ("1", True),
        (" YES ", True),
        ("on", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_reads_true_and_false_words(raw, expected):
    assert env_bool("DEBUG", not expected, {"DEBUG": raw}) is expected


def test_env_bool_without_the_variable_is_the_default():
    assert env_bool("DEBUG", True, {}) is True


@pytest.mark.parametrize("raw", ["maybe", "2", "tru"])
def test_env_bool_malformed_raises_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="DEBUG"):
        env_bool("DEBUG", False, {"DEBUG": raw})


def test_env_int_reads_a_number_or_the_default():
    assert env_int("MAX_UPLOAD_MB", 50, {"MAX_UPLOAD_MB": " 20 "}) == 20
    assert env_int("MAX_UPLOAD_MB", 50, {"MAX_UPLOAD_MB": ""}) == 50
    assert env_int("MAX_UPLOAD_MB", 50, {}) == 50


@pytest.mark.parametrize("raw", ["lots", "1.5", "0", "-3", "10MB"])
def test_env_int_malformed_or_too_small_raises_naming_the_variable(raw):
    with pytest.raises(ImproperlyConfigured, match="MAX_UPLOAD_MB"):
        env_int("MAX_UPLOAD_MB", 50, {"MAX_UPLOAD_MB": raw})


def test_env_list_splits_on_commas_and_drops_blanks():
    environ = {"ALLOWED_HOSTS": " a.example, ,b.example,"}

    assert env_list("ALLOWED_HOSTS", ["x"], environ) == ["a.example", "b.example"]
    assert env_list("ALLOWED_HOSTS", ["x"], {}) == ["x"]


# --- SECRET_KEY -------------------------------------------------------------------


def test_secret_key_is_generated_once_and_reused_from_data_dir(tmp_path):
    first = secret_key_from(tmp_path / "data", {})
    second = secret_key_from(tmp_path / "data", {})

    assert len(first) >= 50
    assert first == second
    assert (tmp_path / "data" / "secret_key").read_text().strip() == first
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_secret_key_from_the_environment_wins_and_writes_nothing(tmp_path):
    assert secret_key_from(tmp_path, {"SECRET_KEY": " set-by-env "}) == "set-by-env"
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_secret_key_file_is_replaced_by_a_new_key(tmp_path):
    # Left behind by a process stopped between creating and writing the file.
    (tmp_path / "secret_key").write_text("")

    key = secret_key_from(tmp_path, {})

    assert key
    assert secret_key_from(tmp_path, {}) == key


def test_processes_starting_at_once_share_one_secret_key(tmp_path):
    barrier = threading.Barrier(8)
    keys: list[str] = []

    def start() -> None:
        barrier.wait(timeout=10)
        keys.append(secret_key_from(tmp_path, {}))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(keys) == 8
    assert len(set(keys)) == 1 and keys[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
