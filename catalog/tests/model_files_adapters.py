"""Model files for tests, part two: LoRA and LyCORIS, ControlNets, upscalers, CLIP
vision, GGUF (``model_files`` re-exports all of it)."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from pathlib import Path

from catalog.tests.model_files import Tensors, flux_transformer, ldm_unet

# --- LoRAs ---

SD1_ATTENTION_MODULES = [
    f"{side}_blocks_{b}_attentions_{a}_transformer_blocks_0_{proj}"
    for side, blocks, attentions in (("down", range(3), range(2)), ("up", range(1, 4), range(3)))
    for b in blocks
    for a in attentions
    for proj in (
        "attn1_to_q",
        "attn1_to_k",
        "attn1_to_v",
        "attn1_to_out_0",
        "attn2_to_q",
        "attn2_to_k",
        "attn2_to_v",
        "attn2_to_out_0",
        "ff_net_0_proj",
        "ff_net_2",
    )
]
_SD1_WIDTH = {
    "down_blocks_0": 320,
    "down_blocks_1": 640,
    "down_blocks_2": 1280,
    "up_blocks_1": 1280,
}
_SD1_WIDTH |= {"up_blocks_2": 640, "up_blocks_3": 320}


def _lora_shapes(module: str, width: int, context: int) -> tuple[int, int]:
    """(out, in) of the linear layer a LoRA module wraps."""
    if module.endswith(("attn2_to_k", "attn2_to_v")):
        return width, context
    if module.endswith("ff_net_0_proj"):
        return width * 8, width
    if module.endswith("ff_net_2"):
        return width, width * 4
    return width, width


def kohya_lora(
    modules: Iterable[tuple[str, int, int]], *, rank: int = 32, algo: str = "lora"
) -> Tensors:
    """kohya keys for (module name, out, in): lora_down/lora_up/alpha, or LoHa/LoKr weights."""
    t: Tensors = {}
    for name, out, inp in modules:
        if algo == "lora":
            t[f"{name}.lora_down.weight"] = ("F16", (rank, inp))
            t[f"{name}.lora_up.weight"] = ("F16", (out, rank))
        elif algo == "loha":
            for w in ("w1", "w2"):
                t[f"{name}.hada_{w}_a"] = ("F16", (out, rank))
                t[f"{name}.hada_{w}_b"] = ("F16", (rank, inp))
        elif algo == "lokr":
            t[f"{name}.lokr_w1"] = ("F16", (4, 4))
            t[f"{name}.lokr_w2"] = ("F16", (out // 4, inp // 4))
        t[f"{name}.alpha"] = ("F16", ())
    return t


def sd1_lora_modules(context: int = 768) -> list[tuple[str, int, int]]:
    modules = []
    for module in SD1_ATTENTION_MODULES:
        width = _SD1_WIDTH["_".join(module.split("_")[:3])]
        out, inp = _lora_shapes(module, width, context)
        modules.append((f"lora_unet_{module}", out, inp))
    return modules


def te_lora_modules(
    prefix: str, *, width: int = 768, layers: int = 12
) -> list[tuple[str, int, int]]:
    modules = []
    for i in range(layers):
        base = f"{prefix}_text_model_encoder_layers_{i}_"
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            modules.append((base + "self_attn_" + proj, width, width))
        modules.append((base + "mlp_fc1", width * 4, width))
        modules.append((base + "mlp_fc2", width, width * 4))
    return modules


def sdxl_lora_modules() -> list[tuple[str, int, int]]:
    """kohya SDXL: U-Net modules named after sgm's input/middle/output blocks."""
    modules = []
    blocks = [
        (f"input_blocks_{b}", 640 if b < 7 else 1280, 2 if b < 7 else 10) for b in (4, 5, 7, 8)
    ]
    blocks += [("middle_block", 1280, 10)]
    blocks += [(f"output_blocks_{b}", 1280 if b < 3 else 640, 10 if b < 3 else 2) for b in range(6)]
    for block, width, depth in blocks:
        inner = "1" if block != "middle_block" else "1"
        for k in range(depth):
            for proj in ("attn1_to_q", "attn1_to_k", "attn2_to_k", "attn2_to_v", "ff_net_2"):
                out, inp = _lora_shapes(proj, width, 2048)
                modules.append(
                    (f"lora_unet_{block}_{inner}_transformer_blocks_{k}_{proj}", out, inp)
                )
    return modules


def sdxl_kohya_lora(rank: int = 32) -> Tensors:
    return kohya_lora(
        sdxl_lora_modules()
        + te_lora_modules("lora_te1")
        + te_lora_modules("lora_te2", width=1280, layers=32),
        rank=rank,
    )


def flux_kohya_lora(rank: int = 16) -> Tensors:
    modules = []
    for i in range(19):
        for side in ("img", "txt"):
            modules += [
                (f"lora_unet_double_blocks_{i}_{side}_attn_qkv", 9216, 3072),
                (f"lora_unet_double_blocks_{i}_{side}_attn_proj", 3072, 3072),
                (f"lora_unet_double_blocks_{i}_{side}_mlp_0", 12288, 3072),
                (f"lora_unet_double_blocks_{i}_{side}_mlp_2", 3072, 12288),
            ]
    for i in range(38):
        modules += [
            (f"lora_unet_single_blocks_{i}_linear1", 21504, 3072),
            (f"lora_unet_single_blocks_{i}_linear2", 3072, 15360),
        ]
    return kohya_lora(modules, rank=rank)


def peft_sd1_lora(rank: int = 8) -> Tensors:
    """diffusers/PEFT naming: unet.<module>.lora_A.weight / lora_B.weight."""
    t: Tensors = {}
    for name, out, inp in sd1_lora_modules():
        module = name.removeprefix("lora_unet_")
        dotted = (
            module.replace("_blocks_", "_blocks.")
            .replace("_attentions_", ".attentions.")
            .replace("_transformer_blocks_0_", ".transformer_blocks.0.")
        )
        dotted = dotted.replace("attn1_", "attn1.").replace("attn2_", "attn2.")
        dotted = dotted.replace("to_out_0", "to_out.0").replace("ff_net_", "ff.net.")
        dotted = dotted.replace(".net.0_proj", ".net.0.proj")
        t[f"unet.{dotted}.lora_A.weight"] = ("F32", (rank, inp))
        t[f"unet.{dotted}.lora_B.weight"] = ("F32", (out, rank))
    return t


def diffusers_sdxl_lora(rank: int = 8) -> Tensors:
    """The older diffusers attention-processor form: <module>.lora.down.weight."""
    t: Tensors = {}
    for b in (1, 2):
        width = 640 if b == 1 else 1280
        for a in range(2):
            for k in range(2 if b == 1 else 10):
                base = f"unet.down_blocks.{b}.attentions.{a}.transformer_blocks.{k}"
                for attn, proj, inp in (("attn1", "to_q", width), ("attn2", "to_k", 2048)):
                    t[f"{base}.{attn}.processor.{proj}_lora.down.weight"] = ("F16", (rank, inp))
                    t[f"{base}.{attn}.processor.{proj}_lora.up.weight"] = ("F16", (width, rank))
    for i in range(32):
        base = f"text_encoder_2.text_model.encoder.layers.{i}.self_attn.k_proj"
        t[f"{base}.lora_linear_layer.down.weight"] = ("F16", (rank, 1280))
    return t


def diffusers_flux_lora(rank: int = 16) -> Tensors:
    t: Tensors = {}
    for i in range(19):
        for proj in ("to_q", "to_k", "to_v", "add_q_proj", "add_k_proj", "add_v_proj"):
            base = f"transformer.transformer_blocks.{i}.attn.{proj}"
            t[f"{base}.lora_A.weight"] = ("BF16", (rank, 3072))
            t[f"{base}.lora_B.weight"] = ("BF16", (3072, rank))
    for i in range(38):
        for proj in ("to_q", "to_k", "to_v"):
            base = f"transformer.single_transformer_blocks.{i}.attn.{proj}"
            t[f"{base}.lora_A.weight"] = ("BF16", (rank, 3072))
            t[f"{base}.lora_B.weight"] = ("BF16", (3072, rank))
    return t


def locon_sd1(rank: int = 16) -> Tensors:
    """LoCon: kohya LoRA keys plus 3x3 convolutions of the resnets."""
    t = kohya_lora(sd1_lora_modules(), rank=rank)
    for b, width in ((0, 320), (1, 640), (2, 1280)):
        for r in range(2):
            name = f"lora_unet_down_blocks_{b}_resnets_{r}_conv1"
            t[f"{name}.lora_down.weight"] = ("F16", (rank, width, 3, 3))
            t[f"{name}.lora_up.weight"] = ("F16", (width, rank, 1, 1))
            t[f"{name}.alpha"] = ("F16", ())
    return t


# --- other kinds ---


def controlnet_sd1() -> Tensors:
    t = ldm_unet("control_model.", output=False)
    t["control_model.input_hint_block.0.weight"] = ("F16", (16, 3, 3, 3))
    t["control_model.input_hint_block.14.weight"] = ("F16", (320, 256, 3, 3))
    for i, width in enumerate((320,) * 3 + (640,) * 3 + (1280,) * 6):
        t[f"control_model.zero_convs.{i}.0.weight"] = ("F16", (width, width, 1, 1))
    t["control_model.middle_block_out.0.weight"] = ("F16", (1280, 1280, 1, 1))
    return t


def controlnet_sdxl_diffusers() -> Tensors:
    t: Tensors = {
        "conv_in.weight": ("F16", (320, 4, 3, 3)),
        "controlnet_cond_embedding.conv_in.weight": ("F16", (16, 3, 3, 3)),
        "add_embedding.linear_1.weight": ("F16", (1280, 2816)),
        "time_embedding.linear_1.weight": ("F16", (1280, 320)),
    }
    for b, width in ((1, 640), (2, 1280)):
        for a in range(2):
            for k in range(2 if b == 1 else 10):
                base = f"down_blocks.{b}.attentions.{a}.transformer_blocks.{k}"
                t[f"{base}.attn2.to_k.weight"] = ("F16", (width, 2048))
                t[f"{base}.attn2.to_v.weight"] = ("F16", (width, 2048))
    for i in range(9):
        t[f"controlnet_down_blocks.{i}.weight"] = ("F16", (320, 320, 1, 1))
    t["controlnet_mid_block.weight"] = ("F16", (1280, 1280, 1, 1))
    return t


def controlnet_flux_xlabs() -> Tensors:
    t = {k: v for k, v in flux_transformer(guidance=True).items() if not k.startswith("single_")}
    t = {
        k: v
        for k, v in t.items()
        if not k.startswith("double_blocks.")
        or k.startswith(("double_blocks.0.", "double_blocks.1."))
    }
    t["controlnet_blocks.0.weight"] = ("BF16", (3072, 3072))
    t["controlnet_blocks.1.weight"] = ("BF16", (3072, 3072))
    t["input_hint_block.0.weight"] = ("BF16", (16, 3, 3, 3))
    return t


def esrgan_old(blocks: int = 23) -> Tensors:
    t: Tensors = {"model.0.weight": ("F32", (64, 3, 3, 3)), "model.0.bias": ("F32", (64,))}
    for n in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 6):
                inp = 64 + 32 * (c - 1)
                out = 32 if c < 5 else 64
                t[f"model.1.sub.{n}.RDB{r}.conv{c}.0.weight"] = ("F32", (out, inp, 3, 3))
                t[f"model.1.sub.{n}.RDB{r}.conv{c}.0.bias"] = ("F32", (out,))
    t[f"model.1.sub.{blocks}.weight"] = ("F32", (64, 64, 3, 3))
    for layer in (3, 6, 8):
        t[f"model.{layer}.weight"] = ("F32", (64, 64, 3, 3))
    t["model.10.weight"] = ("F32", (3, 64, 3, 3))
    return t


def esrgan_new(blocks: int = 23) -> Tensors:
    t: Tensors = {"conv_first.weight": ("F32", (64, 3, 3, 3))}
    for n in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 6):
                inp = 64 + 32 * (c - 1)
                t[f"body.{n}.rdb{r}.conv{c}.weight"] = ("F32", (32 if c < 5 else 64, inp, 3, 3))
    for name in ("conv_body", "conv_up1", "conv_up2", "conv_hr"):
        t[f"{name}.weight"] = ("F32", (64, 64, 3, 3))
    t["conv_last.weight"] = ("F32", (3, 64, 3, 3))
    return t


def clip_vision_h() -> Tensors:
    t: Tensors = {
        "vision_model.embeddings.patch_embedding.weight": ("F16", (1280, 3, 14, 14)),
        "vision_model.embeddings.class_embedding": ("F16", (1280,)),
        "vision_model.embeddings.position_embedding.weight": ("F16", (257, 1280)),
    }
    for i in range(32):
        base = f"vision_model.encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t[f"{base}self_attn.{proj}.weight"] = ("F16", (1280, 1280))
        t[f"{base}mlp.fc1.weight"] = ("F16", (5120, 1280))
        t[f"{base}mlp.fc2.weight"] = ("F16", (1280, 5120))
    t["visual_projection.weight"] = ("F16", (1024, 1280))
    return t


# --- GGUF ---


def write_gguf(
    path: Path,
    tensors: dict[str, tuple[str, tuple[int, ...]]],
    *,
    architecture: str = "flux",
    metadata: dict[str, object] | None = None,
) -> Path:
    """A GGUF file written by the gguf package's writer: its header for real, its
    tensor data left sparse. ``tensors``: name -> (ggml type name, shape)."""
    import numpy as np
    from gguf import GGMLQuantizationType, GGUFWriter
    from gguf.constants import GGML_QUANT_SIZES

    writer = GGUFWriter(path, architecture)
    writer.add_uint32("general.quantization_version", 2)
    for key, value in (metadata or {}).items():
        if isinstance(value, str):
            writer.add_string(key, value)
        elif isinstance(value, list):
            writer.add_array(key, value)
        else:
            writer.add_uint32(key, int(value))
    total = 0
    for name, (type_name, shape) in tensors.items():
        qtype = GGMLQuantizationType[type_name]
        block, type_size = GGML_QUANT_SIZES[qtype]
        nbytes = math.prod(shape) // block * type_size
        writer.add_tensor_info(name, shape, np.dtype(np.float32), nbytes, raw_dtype=qtype)
        total += GGUFWriter.ggml_pad(nbytes, 32)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    writer.close()
    size = path.stat().st_size
    os.truncate(path, GGUFWriter.ggml_pad(size, 32) + total)
    return path
