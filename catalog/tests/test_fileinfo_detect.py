"""Detection: architecture, kind and base model of every family the rule table covers,
from real safetensors headers (data sparse), refined by modelspec and kohya metadata."""

from __future__ import annotations

import json

import pytest

from catalog.fileinfo import detect
from catalog.fileinfo.record import file_record_of
from catalog.fileinfo.rule import required_literals
from catalog.tests import model_files as mf

SD1_LORA = mf.sd1_lora_modules() + mf.te_lora_modules("lora_te")

CASES = {
    # full checkpoints (denoiser + text encoders + VAE)
    "sd15.safetensors": (mf.sd1_checkpoint, "checkpoint", "sd1", "SD 1.5"),
    "sd21.safetensors": (mf.sd2_checkpoint, "checkpoint", "sd2", "SD 2.1"),
    "sdxl_base.safetensors": (mf.sdxl_checkpoint, "checkpoint", "sdxl", "SDXL 1.0"),
    "sdxl_refiner.safetensors": (
        mf.sdxl_refiner_checkpoint,
        "checkpoint",
        "sdxl_refiner",
        "SDXL 1.0",
    ),
    "sd3_medium.safetensors": (mf.sd3_checkpoint, "checkpoint", "sd3", "SD 3"),
    "sd35_large.safetensors": (
        lambda: mf.sd3_checkpoint(hidden=2432, depth=38),
        "checkpoint",
        "sd3",
        "SD 3.5",
    ),
    "flux1-dev-fp8.safetensors": (mf.flux_checkpoint, "checkpoint", "flux1", "Flux.1 D"),
    "flux1-schnell-fp8.safetensors": (
        lambda: mf.flux_checkpoint(guidance=False),
        "checkpoint",
        "flux1",
        "Flux.1 S",
    ),
    # denoisers alone
    "sdxl_unet.safetensors": (
        lambda: mf.sdxl_unet(prefix=""),
        "diffusion_model",
        "sdxl",
        "SDXL 1.0",
    ),
    "sd15_unet_prefixed.safetensors": (mf.sd1_unet, "diffusion_model", "sd1", "SD 1.5"),
    "sd35_medium.safetensors": (lambda: mf.mmdit(x_attn2=13), "diffusion_model", "sd3", "SD 3.5"),
    "flux1-dev.safetensors": (mf.flux_transformer, "diffusion_model", "flux1", "Flux.1 D"),
    "flux1-schnell.safetensors": (
        lambda: mf.flux_transformer(guidance=False),
        "diffusion_model",
        "flux1",
        "Flux.1 S",
    ),
    # LoRA: kohya and diffusers/PEFT naming
    "sd15_kohya_lora.safetensors": (lambda: mf.kohya_lora(SD1_LORA), "lora", "sd1", "SD 1.5"),
    "sdxl_kohya_lora.safetensors": (mf.sdxl_kohya_lora, "lora", "sdxl", "SDXL 1.0"),
    "flux_kohya_lora.safetensors": (mf.flux_kohya_lora, "lora", "flux1", "Flux.1 D"),
    "sd15_peft_lora.safetensors": (mf.peft_sd1_lora, "lora", "sd1", "SD 1.5"),
    "sdxl_diffusers_lora.safetensors": (mf.diffusers_sdxl_lora, "lora", "sdxl", "SDXL 1.0"),
    "flux_diffusers_lora.safetensors": (mf.diffusers_flux_lora, "lora", "flux1", "Flux.1 D"),
    # LyCORIS
    "sd15_loha.safetensors": (
        lambda: mf.kohya_lora(mf.sd1_lora_modules(), algo="loha"),
        "lycoris",
        "sd1",
        "SD 1.5",
    ),
    "sdxl_lokr.safetensors": (
        lambda: mf.kohya_lora(mf.sdxl_lora_modules(), algo="lokr"),
        "lycoris",
        "sdxl",
        "SDXL 1.0",
    ),
    "sd15_locon.safetensors": (mf.locon_sd1, "lycoris", "sd1", "SD 1.5"),
    # VAEs
    "vae-ft-mse-840000.safetensors": (mf.ldm_vae, "vae", "sd1", "SD 1.5"),
    "sdxl_vae.safetensors": (mf.ldm_vae, "vae", "sdxl", "SDXL 1.0"),
    "ae.safetensors": (lambda: mf.ldm_vae(latent=16), "vae", "flux1", "Flux.1 D"),
    # textual inversion
    "easynegative.safetensors": (
        lambda: {"emb_params": ("F32", (8, 768))},
        "embedding",
        "sd1",
        "SD 1.5",
    ),
    "sd2_embedding.safetensors": (
        lambda: {"string_to_param.*": ("F32", (4, 1024))},
        "embedding",
        "sd2",
        "SD 2.1",
    ),
    "sdxl_embedding.safetensors": (
        lambda: {"clip_l": ("F16", (8, 768)), "clip_g": ("F16", (8, 1280))},
        "embedding",
        "sdxl",
        "SDXL 1.0",
    ),
    # ControlNets
    "control_v11p_sd15_canny.safetensors": (mf.controlnet_sd1, "controlnet", "sd1", "SD 1.5"),
    "controlnet-canny-sdxl.safetensors": (
        mf.controlnet_sdxl_diffusers,
        "controlnet",
        "sdxl",
        "SDXL 1.0",
    ),
    "flux-canny-controlnet.safetensors": (
        mf.controlnet_flux_xlabs,
        "controlnet",
        "flux1",
        "Flux.1 D",
    ),
    # upscalers (ESRGAN family)
    "4x_esrgan_old.safetensors": (mf.esrgan_old, "upscaler", "esrgan", ""),
    "RealESRGAN_x4plus.safetensors": (mf.esrgan_new, "upscaler", "esrgan", ""),
    # encoders
    "clip_l.safetensors": (lambda: mf.clip_text(""), "text_encoder", "clip_l", ""),
    "t5xxl_fp16.safetensors": (mf.t5_encoder, "text_encoder", "t5", ""),
    "clip_vision_h.safetensors": (mf.clip_vision_h, "clip_vision", "clip_vit_h", ""),
}


@pytest.mark.parametrize("name", list(CASES))
def test_detection_of_each_family(tmp_path, name):
    build, kind, architecture, base_model = CASES[name]
    tensors = build()
    path = mf.write_safetensors(tmp_path / name, tensors)
    record = file_record_of(str(path))
    assert record["header_error"] == ""
    assert (record["kind"], record["architecture"], record["base_model"]) == (
        kind,
        architecture,
        base_model,
    )
    assert record["tensor_count"] == len(tensors)


def test_realistic_sizes_cost_no_disk(tmp_path):
    path = mf.write_safetensors(tmp_path / "flux1-dev.safetensors", mf.flux_transformer())
    record = file_record_of(str(path))
    # 11.9 billion BF16 parameters: a 23.8 GB file, sparse on disk.
    assert record["parameters"] == 11_898_354_688
    assert record["dtype"] == "BF16"
    assert path.stat().st_size > 23_000_000_000
    assert path.stat().st_blocks * 512 < 10_000_000


def test_sdxl_lora_record_matches_the_spec_example(tmp_path):
    tag_frequency = {
        "10_zkz": {"1girl": 200, "solo": 150, " zkz style": 120},
        "5_reg": {"1girl": 40, "solo": 50, "smile": 10},
    }
    metadata = {
        "modelspec.sai_model_spec": "1.0.0",
        "modelspec.architecture": "stable-diffusion-xl-v1-base/lora",
        "modelspec.implementation": "https://github.com/Stability-AI/generative-models",
        "modelspec.title": "ZKZ Style",
        "modelspec.author": "someone",
        "modelspec.trigger_phrase": "zkz style,  zkz lineart ,zkz style",
        "modelspec.thumbnail": "data:image/png;base64,AAAA",
        "ss_network_module": "networks.lora",
        "ss_network_dim": "32",
        "ss_network_alpha": "16.0",
        "ss_epoch": "10",
        "ss_steps": "4200",
        "ss_resolution": "(1024, 1024)",
        "ss_output_name": "zkz_style",
        "ss_base_model_version": "sdxl_base_v1-0",
        "ss_learning_rate": "0.0001",
        "ss_network_dropout": "None",
        "ss_tag_frequency": json.dumps(tag_frequency),
    }
    path = mf.write_safetensors(tmp_path / "zkz.safetensors", mf.sdxl_kohya_lora(), metadata)
    record = file_record_of(str(path))
    assert (record["architecture"], record["kind"], record["base_model"]) == (
        "sdxl",
        "lora",
        "SDXL 1.0",
    )
    assert record["dtype"] == "F16"
    assert record["trigger_words"] == ["zkz style", "zkz lineart"]
    assert record["training"] == {
        "network_module": "networks.lora",
        "network_dim": 32,
        "network_alpha": 16,
        "epochs": 10,
        "steps": 4200,
        "resolution": "1024,1024",
        "output_name": "zkz_style",
        "base_model_version": "sdxl_base_v1-0",
        "learning_rate": 0.0001,
        "top_tags": [["1girl", 240], ["solo", 200], ["zkz style", 120], ["smile", 10]],
    }
    assert record["modelspec"] == {
        "sai_model_spec": "1.0.0",
        "architecture": "stable-diffusion-xl-v1-base/lora",
        "implementation": "https://github.com/Stability-AI/generative-models",
        "title": "ZKZ Style",
        "author": "someone",
        "trigger_phrase": "zkz style,  zkz lineart ,zkz style",
    }


def test_top_tags_keep_the_twenty_most_frequent(tmp_path):
    frequency = {"1_a": {f"tag{i:02}": i for i in range(40)}}
    path = mf.write_safetensors(
        tmp_path / "t.safetensors",
        mf.kohya_lora(SD1_LORA),
        {"ss_tag_frequency": json.dumps(frequency)},
    )
    top = file_record_of(str(path))["training"]["top_tags"]
    assert top == [[f"tag{i:02}", i] for i in range(39, 19, -1)]


@pytest.mark.parametrize(
    ("model_name", "base_model"),
    [
        ("ponyDiffusionV6XL_v6StartWithThisOne.safetensors", "Pony"),
        ("illustriousXL_v01.safetensors", "Illustrious"),
        ("noobaiXLNAIXL_vPred10Version.safetensors", "NoobAI"),
        ("sd_xl_base_1.0.safetensors", "SDXL 1.0"),
    ],
)
def test_sdxl_family_label_from_the_base_the_lora_was_trained_on(tmp_path, model_name, base_model):
    path = mf.write_safetensors(
        tmp_path / "l.safetensors", mf.sdxl_kohya_lora(), {"ss_sd_model_name": model_name}
    )
    assert file_record_of(str(path))["base_model"] == base_model


def test_a_checkpoint_title_names_its_family(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "c.safetensors",
        mf.sdxl_checkpoint(),
        {"modelspec.title": "Pony Diffusion V6 XL"},
    )
    assert file_record_of(str(path))["base_model"] == "Pony"


def test_a_lora_title_does_not_name_a_family(tmp_path):
    # "My Little Pony character" is what the LoRA draws, not what it was trained on.
    path = mf.write_safetensors(
        tmp_path / "l.safetensors", mf.sdxl_kohya_lora(), {"modelspec.title": "Pony character"}
    )
    assert file_record_of(str(path))["base_model"] == "SDXL 1.0"


def test_metadata_refines_a_flux_lora_to_schnell(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "l.safetensors",
        mf.flux_kohya_lora(),
        {"modelspec.architecture": "flux-1-schnell/lora", "ss_base_model_version": "flux1"},
    )
    record = file_record_of(str(path))
    assert (record["architecture"], record["base_model"]) == ("flux1", "Flux.1 S")


def test_tensors_win_over_contradicting_metadata(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "l.safetensors",
        mf.kohya_lora(SD1_LORA),
        {"modelspec.architecture": "stable-diffusion-xl-v1-base/lora"},
    )
    record = file_record_of(str(path))
    assert (record["architecture"], record["base_model"]) == ("sd1", "SD 1.5")


def test_metadata_fills_what_the_tensors_leave_unknown(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "odd.safetensors",
        {"some.custom.weight": ("F16", (16, 16))},
        {"modelspec.architecture": "stable-diffusion-v1/lora", "ss_base_model_version": "sd_v1"},
    )
    record = file_record_of(str(path))
    assert (record["architecture"], record["kind"], record["base_model"]) == (
        "sd1",
        "lora",
        "SD 1.5",
    )


def test_lycoris_network_module_makes_a_lora_lycoris(tmp_path):
    path = mf.write_safetensors(
        tmp_path / "l.safetensors",
        mf.kohya_lora(SD1_LORA),
        {"ss_network_module": "lycoris.kohya", "ss_network_args": json.dumps({"algo": "locon"})},
    )
    assert file_record_of(str(path))["kind"] == "lycoris"


def test_detection_works_on_names_and_shapes_in_memory():
    tensors = mf.sdxl_kohya_lora()
    found = detect.detect_tensors(tensors, lambda name: tensors[name][1])
    assert found == detect.Detection(architecture="sdxl", kind="lora")


def test_every_rule_names_its_source_and_a_known_result():
    kinds = {rule.result for rule in detect.KIND_RULES}
    assert kinds <= set(detect.ARCHITECTURE_RULES)
    for rules in (detect.KIND_RULES, *detect.ARCHITECTURE_RULES.values()):
        for rule in rules:
            assert rule.source, rule.key


@pytest.mark.parametrize(
    ("pattern", "literals"),
    [
        (r".*\.hada_w1_a", (".hada_w1_a",)),
        (
            r"lora_unet_(?:double|single)_blocks_\d+_.*",
            ("lora_unet_double_blocks_", "lora_unet_single_blocks_"),
        ),
        (r"{P}input_blocks\.4\.1\.x", ("input_blocks.4.1.x",)),
        (r"emb_params|string_to_param", ()),
        (r"lora_te\d?_x", ("lora_te",)),
    ],
)
def test_required_literals_are_in_every_match(pattern, literals):
    assert required_literals(pattern) == literals


def test_the_documentation_prints_the_tables_the_code_holds():
    from pathlib import Path

    from catalog.fileinfo.rules import rules_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "file-intelligence.md"
    assert rules_markdown() in doc.read_text(encoding="utf-8")
