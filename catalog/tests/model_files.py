"""Real model files for tests: safetensors with the key sets and shapes of each family.

The headers are what the real files hold (generated from each architecture's
layout, not copied); the tensor data after the header is left sparse with
``truncate``, so a 24 GB Flux file takes no disk and is never read.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

Tensors = dict[str, tuple[str, tuple[int, ...]]]

DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "I64": 8, "I32": 4, "U8": 1}


def write_safetensors(
    path: Path,
    tensors: Tensors,
    metadata: dict[str, str] | None = None,
    *,
    data: bytes | None = None,
) -> Path:
    """Write a safetensors file: a real header; the data sparse, or ``data`` if given."""
    header: dict = {}
    if metadata:
        header["__metadata__"] = metadata
    offset = 0
    for name, (dtype, shape) in tensors.items():
        size = math.prod(shape) * DTYPE_BYTES[dtype]
        header[name] = {
            "dtype": dtype,
            "shape": list(shape),
            "data_offsets": [offset, offset + size],
        }
        offset += size
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(len(raw).to_bytes(8, "little"))
        handle.write(raw)
        if data is not None:
            handle.write(data[:offset].ljust(offset, b"\0"))
    if data is None:
        os.truncate(path, 8 + len(raw) + offset)
    return path


def write_raw_header(
    path: Path, header: bytes, *, length: int | None = None, tail: int = 0
) -> Path:
    """A file holding an 8-byte length (``len(header)`` unless given) and ``header``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = len(header) if length is None else length
    path.write_bytes(size.to_bytes(8, "little") + header + b"\0" * tail)
    return path


# --- Stable Diffusion U-Nets (ldm/sgm layout, as in ComfyUI's openaimodel.py) ---


def ldm_unet(
    prefix: str,
    *,
    model_channels: int = 320,
    channel_mult: tuple[int, ...] = (1, 2, 4, 4),
    depth: tuple[int, ...] = (1, 1, 1, 0),
    context_dim: int = 768,
    adm_in: int | None = None,
    linear: bool = False,
    in_channels: int = 4,
    dtype: str = "F16",
    output: bool = True,
) -> Tensors:
    """Every tensor of an ldm U-Net: time embedding, input, middle and output blocks."""
    t: Tensors = {}
    mc, emb = model_channels, model_channels * 4

    def add(name: str, *shape: int) -> None:
        t[prefix + name] = (dtype, shape)

    def res(block: str, ch_in: int, ch: int) -> None:
        add(f"{block}.in_layers.0.weight", ch_in)
        add(f"{block}.in_layers.0.bias", ch_in)
        add(f"{block}.in_layers.2.weight", ch, ch_in, 3, 3)
        add(f"{block}.in_layers.2.bias", ch)
        add(f"{block}.emb_layers.1.weight", ch, emb)
        add(f"{block}.emb_layers.1.bias", ch)
        add(f"{block}.out_layers.0.weight", ch)
        add(f"{block}.out_layers.0.bias", ch)
        add(f"{block}.out_layers.3.weight", ch, ch, 3, 3)
        add(f"{block}.out_layers.3.bias", ch)
        if ch_in != ch:
            add(f"{block}.skip_connection.weight", ch, ch_in, 1, 1)
            add(f"{block}.skip_connection.bias", ch)

    def transformer(block: str, ch: int, layers: int) -> None:
        add(f"{block}.norm.weight", ch)
        add(f"{block}.norm.bias", ch)
        proj = (ch, ch) if linear else (ch, ch, 1, 1)
        add(f"{block}.proj_in.weight", *proj)
        add(f"{block}.proj_in.bias", ch)
        for k in range(layers):
            tb = f"{block}.transformer_blocks.{k}"
            for attn, kv in (("attn1", ch), ("attn2", context_dim)):
                add(f"{tb}.{attn}.to_q.weight", ch, ch)
                add(f"{tb}.{attn}.to_k.weight", ch, kv)
                add(f"{tb}.{attn}.to_v.weight", ch, kv)
                add(f"{tb}.{attn}.to_out.0.weight", ch, ch)
                add(f"{tb}.{attn}.to_out.0.bias", ch)
            add(f"{tb}.ff.net.0.proj.weight", ch * 8, ch)
            add(f"{tb}.ff.net.0.proj.bias", ch * 8)
            add(f"{tb}.ff.net.2.weight", ch, ch * 4)
            add(f"{tb}.ff.net.2.bias", ch)
            for norm in ("norm1", "norm2", "norm3"):
                add(f"{tb}.{norm}.weight", ch)
                add(f"{tb}.{norm}.bias", ch)
        add(f"{block}.proj_out.weight", *proj)
        add(f"{block}.proj_out.bias", ch)

    add("time_embed.0.weight", emb, mc)
    add("time_embed.0.bias", emb)
    add("time_embed.2.weight", emb, emb)
    add("time_embed.2.bias", emb)
    if adm_in:
        add("label_emb.0.0.weight", emb, adm_in)
        add("label_emb.0.0.bias", emb)
        add("label_emb.0.2.weight", emb, emb)
        add("label_emb.0.2.bias", emb)
    add("input_blocks.0.0.weight", mc, in_channels, 3, 3)
    add("input_blocks.0.0.bias", mc)
    block, ch, chans = 1, mc, [mc]
    for level, mult in enumerate(channel_mult):
        for _ in range(2):
            res(f"input_blocks.{block}.0", ch, mc * mult)
            ch = mc * mult
            if depth[level]:
                transformer(f"input_blocks.{block}.1", ch, depth[level])
            chans.append(ch)
            block += 1
        if level < len(channel_mult) - 1:
            add(f"input_blocks.{block}.0.op.weight", ch, ch, 3, 3)
            add(f"input_blocks.{block}.0.op.bias", ch)
            chans.append(ch)
            block += 1
    res("middle_block.0", ch, ch)
    transformer("middle_block.1", ch, depth[-1] or depth[-2])
    res("middle_block.2", ch, ch)
    if not output:
        return t
    block = 0
    for level, mult in reversed(list(enumerate(channel_mult))):
        for i in range(3):
            skip = chans.pop()
            res(f"output_blocks.{block}.0", ch + skip, mc * mult)
            ch = mc * mult
            layer = 1
            if depth[level]:
                transformer(f"output_blocks.{block}.1", ch, depth[level])
                layer = 2
            if level and i == 2:
                add(f"output_blocks.{block}.{layer}.conv.weight", ch, ch, 3, 3)
                add(f"output_blocks.{block}.{layer}.conv.bias", ch)
            block += 1
    add("out.0.weight", mc)
    add("out.0.bias", mc)
    add("out.2.weight", 4, mc, 3, 3)
    add("out.2.bias", 4)
    return t


def sd1_unet(prefix: str = "model.diffusion_model.", **kw) -> Tensors:
    return ldm_unet(prefix, **kw)


def sd2_unet(prefix: str = "model.diffusion_model.") -> Tensors:
    return ldm_unet(prefix, context_dim=1024, linear=True)


def sdxl_unet(prefix: str = "model.diffusion_model.", dtype: str = "F16") -> Tensors:
    return ldm_unet(
        prefix,
        channel_mult=(1, 2, 4),
        depth=(0, 2, 10),
        context_dim=2048,
        adm_in=2816,
        linear=True,
        dtype=dtype,
    )


def sdxl_refiner_unet(prefix: str = "model.diffusion_model.") -> Tensors:
    return ldm_unet(
        prefix,
        model_channels=384,
        depth=(0, 4, 4, 0),
        context_dim=1280,
        adm_in=2560,
        linear=True,
    )


# --- text encoders and VAEs ---


def clip_text(prefix: str, *, width: int = 768, layers: int = 12, dtype: str = "F16") -> Tensors:
    """A Hugging Face CLIPTextModel (text_model.*) under ``prefix``."""
    t: Tensors = {}
    p = prefix + "text_model."
    t[p + "embeddings.token_embedding.weight"] = (dtype, (49408, width))
    t[p + "embeddings.position_embedding.weight"] = (dtype, (77, width))
    for i in range(layers):
        layer = f"{p}encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t[f"{layer}self_attn.{proj}.weight"] = (dtype, (width, width))
            t[f"{layer}self_attn.{proj}.bias"] = (dtype, (width,))
        for norm in ("layer_norm1", "layer_norm2"):
            t[f"{layer}{norm}.weight"] = (dtype, (width,))
            t[f"{layer}{norm}.bias"] = (dtype, (width,))
        t[f"{layer}mlp.fc1.weight"] = (dtype, (width * 4, width))
        t[f"{layer}mlp.fc1.bias"] = (dtype, (width * 4,))
        t[f"{layer}mlp.fc2.weight"] = (dtype, (width, width * 4))
        t[f"{layer}mlp.fc2.bias"] = (dtype, (width,))
    t[p + "final_layer_norm.weight"] = (dtype, (width,))
    t[p + "final_layer_norm.bias"] = (dtype, (width,))
    return t


def open_clip_text(prefix: str, *, width: int = 1280, layers: int = 32) -> Tensors:
    """An open_clip text tower (SD2's OpenCLIP-H, SDXL's OpenCLIP-bigG) under ``prefix``."""
    t: Tensors = {
        prefix + "token_embedding.weight": ("F16", (49408, width)),
        prefix + "positional_embedding": ("F16", (77, width)),
    }
    for i in range(layers):
        r = f"{prefix}transformer.resblocks.{i}."
        t[r + "attn.in_proj_weight"] = ("F16", (width * 3, width))
        t[r + "attn.in_proj_bias"] = ("F16", (width * 3,))
        t[r + "attn.out_proj.weight"] = ("F16", (width, width))
        t[r + "attn.out_proj.bias"] = ("F16", (width,))
        for norm in ("ln_1", "ln_2"):
            t[r + norm + ".weight"] = ("F16", (width,))
            t[r + norm + ".bias"] = ("F16", (width,))
        t[r + "mlp.c_fc.weight"] = ("F16", (width * 4, width))
        t[r + "mlp.c_fc.bias"] = ("F16", (width * 4,))
        t[r + "mlp.c_proj.weight"] = ("F16", (width, width * 4))
        t[r + "mlp.c_proj.bias"] = ("F16", (width,))
    t[prefix + "ln_final.weight"] = ("F16", (width,))
    t[prefix + "ln_final.bias"] = ("F16", (width,))
    t[prefix + "text_projection"] = ("F16", (width, width))
    return t


def t5_encoder(prefix: str = "", *, layers: int = 24, width: int = 4096) -> Tensors:
    t: Tensors = {prefix + "shared.weight": ("F16", (32128, width))}
    for i in range(layers):
        b = f"{prefix}encoder.block.{i}.layer."
        for proj in ("q", "k", "v", "o"):
            t[f"{b}0.SelfAttention.{proj}.weight"] = ("F16", (width, width))
        t[f"{b}0.layer_norm.weight"] = ("F16", (width,))
        t[f"{b}1.DenseReluDense.wi_0.weight"] = ("F16", (10240, width))
        t[f"{b}1.DenseReluDense.wi_1.weight"] = ("F16", (10240, width))
        t[f"{b}1.DenseReluDense.wo.weight"] = ("F16", (width, 10240))
        t[f"{b}1.layer_norm.weight"] = ("F16", (width,))
    t[prefix + "encoder.final_layer_norm.weight"] = ("F16", (width,))
    return t


def ldm_vae(prefix: str = "", *, latent: int = 4, dtype: str = "F32") -> Tensors:
    """An ldm AutoencoderKL: encoder, decoder and (for 4 channels) the quant convs."""
    t: Tensors = {}

    def add(name: str, *shape: int) -> None:
        t[prefix + name] = (dtype, shape)

    def block(name: str, ch_in: int, ch: int) -> None:
        add(f"{name}.norm1.weight", ch_in)
        add(f"{name}.norm1.bias", ch_in)
        add(f"{name}.conv1.weight", ch, ch_in, 3, 3)
        add(f"{name}.conv1.bias", ch)
        add(f"{name}.norm2.weight", ch)
        add(f"{name}.norm2.bias", ch)
        add(f"{name}.conv2.weight", ch, ch, 3, 3)
        add(f"{name}.conv2.bias", ch)
        if ch_in != ch:
            add(f"{name}.nin_shortcut.weight", ch, ch_in, 1, 1)
            add(f"{name}.nin_shortcut.bias", ch)

    def mid(name: str) -> None:
        block(f"{name}.block_1", 512, 512)
        for part in ("norm", "q", "k", "v", "proj_out"):
            if part == "norm":
                add(f"{name}.attn_1.norm.weight", 512)
                add(f"{name}.attn_1.norm.bias", 512)
            else:
                add(f"{name}.attn_1.{part}.weight", 512, 512, 1, 1)
                add(f"{name}.attn_1.{part}.bias", 512)
        block(f"{name}.block_2", 512, 512)

    chans = (128, 128, 256, 512, 512)
    add("encoder.conv_in.weight", 128, 3, 3, 3)
    add("encoder.conv_in.bias", 128)
    for i in range(4):
        block(f"encoder.down.{i}.block.0", chans[i], chans[i + 1])
        block(f"encoder.down.{i}.block.1", chans[i + 1], chans[i + 1])
        if i < 3:
            add(f"encoder.down.{i}.downsample.conv.weight", chans[i + 1], chans[i + 1], 3, 3)
            add(f"encoder.down.{i}.downsample.conv.bias", chans[i + 1])
    mid("encoder.mid")
    add("encoder.norm_out.weight", 512)
    add("encoder.norm_out.bias", 512)
    add("encoder.conv_out.weight", 2 * latent, 512, 3, 3)
    add("encoder.conv_out.bias", 2 * latent)
    add("decoder.conv_in.weight", 512, latent, 3, 3)
    add("decoder.conv_in.bias", 512)
    mid("decoder.mid")
    up = (128, 256, 512, 512)
    for i in range(4):
        ch_in = up[min(i + 1, 3)] if i < 3 else 512
        for j in range(3):
            block(f"decoder.up.{i}.block.{j}", ch_in if j == 0 else up[i], up[i])
        if i > 0:
            add(f"decoder.up.{i}.upsample.conv.weight", up[i], up[i], 3, 3)
            add(f"decoder.up.{i}.upsample.conv.bias", up[i])
    add("decoder.norm_out.weight", 128)
    add("decoder.norm_out.bias", 128)
    add("decoder.conv_out.weight", 3, 128, 3, 3)
    add("decoder.conv_out.bias", 3)
    if latent == 4:
        add("quant_conv.weight", 8, 8, 1, 1)
        add("quant_conv.bias", 8)
        add("post_quant_conv.weight", 4, 4, 1, 1)
        add("post_quant_conv.bias", 4)
    return t


# --- full checkpoints ---


def sd1_checkpoint() -> Tensors:
    return sd1_unet() | clip_text("cond_stage_model.transformer.") | ldm_vae("first_stage_model.")


def sd2_checkpoint() -> Tensors:
    return (
        sd2_unet()
        | open_clip_text("cond_stage_model.model.", width=1024, layers=23)
        | ldm_vae("first_stage_model.")
    )


def sdxl_checkpoint() -> Tensors:
    return (
        sdxl_unet()
        | clip_text("conditioner.embedders.0.transformer.")
        | open_clip_text("conditioner.embedders.1.model.")
        | ldm_vae("first_stage_model.")
    )


def sdxl_refiner_checkpoint() -> Tensors:
    return (
        sdxl_refiner_unet()
        | open_clip_text("conditioner.embedders.0.model.")
        | ldm_vae("first_stage_model.")
    )


# --- MMDiT (SD3) and Flux ---


def mmdit(prefix: str = "", *, hidden: int = 1536, depth: int = 24, x_attn2: int = 0) -> Tensors:
    """SD3's MMDiT (ComfyUI/sgm names): depth = hidden / 64; ``x_attn2`` blocks with
    a second x-block attention (SD3.5 Medium's MMDiT-X)."""
    t: Tensors = {}

    def add(name: str, *shape: int) -> None:
        t[prefix + name] = ("F16", shape)

    add("x_embedder.proj.weight", hidden, 16, 2, 2)
    add("x_embedder.proj.bias", hidden)
    add("pos_embed", 1, 36864, hidden)
    add("t_embedder.mlp.0.weight", hidden, 256)
    add("t_embedder.mlp.2.weight", hidden, hidden)
    add("y_embedder.mlp.0.weight", hidden, 2048)
    add("y_embedder.mlp.2.weight", hidden, hidden)
    add("context_embedder.weight", hidden, 4096)
    for i in range(depth):
        last = i == depth - 1
        for part in ("context_block", "x_block"):
            b = f"joint_blocks.{i}.{part}."
            add(b + "attn.qkv.weight", hidden * 3, hidden)
            add(b + "attn.qkv.bias", hidden * 3)
            if part == "x_block" or not last:
                add(b + "attn.proj.weight", hidden, hidden)
                add(b + "mlp.fc1.weight", hidden * 4, hidden)
                add(b + "mlp.fc2.weight", hidden, hidden * 4)
            mods = 2 if part == "context_block" and last else 6
            add(b + "adaLN_modulation.1.weight", hidden * mods, hidden)
        if i < x_attn2:
            add(f"joint_blocks.{i}.x_block.attn2.qkv.weight", hidden * 3, hidden)
            add(f"joint_blocks.{i}.x_block.attn2.proj.weight", hidden, hidden)
    add("final_layer.linear.weight", 64, hidden)
    add("final_layer.adaLN_modulation.1.weight", hidden * 2, hidden)
    return t


def flux_transformer(prefix: str = "", *, guidance: bool = True, dtype: str = "BF16") -> Tensors:
    """Flux.1 in Black Forest Labs' layout: 19 double, 38 single blocks; dev adds guidance_in."""
    t: Tensors = {}
    h = 3072

    def add(name: str, *shape: int) -> None:
        t[prefix + name] = (dtype, shape)

    add("img_in.weight", h, 64)
    add("img_in.bias", h)
    add("time_in.in_layer.weight", h, 256)
    add("time_in.out_layer.weight", h, h)
    add("vector_in.in_layer.weight", h, 768)
    add("vector_in.out_layer.weight", h, h)
    if guidance:
        add("guidance_in.in_layer.weight", h, 256)
        add("guidance_in.in_layer.bias", h)
        add("guidance_in.out_layer.weight", h, h)
        add("guidance_in.out_layer.bias", h)
    add("txt_in.weight", h, 4096)
    add("txt_in.bias", h)
    for i in range(19):
        for side in ("img", "txt"):
            b = f"double_blocks.{i}.{side}_"
            add(b + "mod.lin.weight", 6 * h, h)
            add(b + "attn.qkv.weight", 3 * h, h)
            add(b + "attn.norm.query_norm.scale", 128)
            add(b + "attn.norm.key_norm.scale", 128)
            add(b + "attn.proj.weight", h, h)
            add(b + "mlp.0.weight", 4 * h, h)
            add(b + "mlp.2.weight", h, 4 * h)
    for i in range(38):
        b = f"single_blocks.{i}."
        add(b + "linear1.weight", 3 * h + 4 * h, h)
        add(b + "linear2.weight", h, h + 4 * h)
        add(b + "norm.query_norm.scale", 128)
        add(b + "norm.key_norm.scale", 128)
        add(b + "modulation.lin.weight", 3 * h, h)
    add("final_layer.linear.weight", 64, h)
    add("final_layer.adaLN_modulation.1.weight", 2 * h, h)
    return t


def flux_checkpoint(*, guidance: bool = True) -> Tensors:
    """ComfyUI's all-in-one Flux: model.diffusion_model., text_encoders., vae."""
    return (
        flux_transformer("model.diffusion_model.", guidance=guidance, dtype="F8_E4M3")
        | clip_text("text_encoders.clip_l.transformer.")
        | t5_encoder("text_encoders.t5xxl.transformer.", layers=4)
        | ldm_vae("vae.", latent=16)
    )


def sd3_checkpoint(*, hidden: int = 1536, depth: int = 24, x_attn2: int = 0) -> Tensors:
    return (
        mmdit("model.diffusion_model.", hidden=hidden, depth=depth, x_attn2=x_attn2)
        | clip_text("text_encoders.clip_l.transformer.")
        | clip_text("text_encoders.clip_g.transformer.", width=1280, layers=32)
        | ldm_vae("first_stage_model.", latent=16)
    )


# The second half of the layouts (imported last: it builds on the ones above).
from catalog.tests.model_files_adapters import (  # noqa: E402, F401
    SD1_ATTENTION_MODULES,
    clip_vision_h,
    controlnet_flux_xlabs,
    controlnet_sd1,
    controlnet_sdxl_diffusers,
    diffusers_flux_lora,
    diffusers_sdxl_lora,
    esrgan_new,
    esrgan_old,
    flux_kohya_lora,
    kohya_lora,
    locon_sd1,
    peft_sd1_lora,
    sd1_lora_modules,
    sdxl_kohya_lora,
    sdxl_lora_modules,
    te_lora_modules,
    write_gguf,
)
