"""The detection rules: architecture, kind and base model from tensor names and shapes.

The rules are data: each row names a tensor (a regular expression matched
against whole tensor names), an optional shape test, and the result. Within a
table the first row that matches wins, so specific rows come before general
ones. ``KIND_RULES`` decides what the file is (a LoRA, a VAE, ...); the table
for that kind then decides the architecture. Header metadata (modelspec and
kohya ``ss_*`` keys) confirms or refines the result afterwards
(``refine_with_metadata``). docs/file-intelligence.md prints these tables
with the sources each row follows:

- ComfyUI ``comfy/model_detection.py`` (``detect_unet_config``,
  ``unet_prefix_from_state_dict``) and ``comfy/supported_models.py``;
- InvokeAI ``invokeai/backend/model_manager/configs/{main,lora,vae,controlnet,
  textual_inversion}.py`` and ``util/model_util.py`` (``lora_token_vector_length``);
- kohya-ss sd-scripts ``networks/lora*.py`` (key prefixes) and
  ``library/sai_model_spec.py`` (architecture ids it writes);
- Stability-AI ModelSpec (the ``modelspec.*`` keys);
- chaiNNer spandrel ``architectures/ESRGAN`` (upscaler key sets).

To add a family: add a row (and a test building a file with its keys).
"""

from __future__ import annotations

from catalog.fileinfo.rule import COMFY, INVOKE, KOHYA, LYCORIS, SPANDREL, Rule

# What the file is. First match wins.
KIND_RULES: tuple[Rule, ...] = (
    # LyCORIS: LoHa and LoKr weights, LoCon's 3x3 convolutions.
    Rule(r".*\.hada_w1_a", "lycoris", source=LYCORIS),
    Rule(r".*\.lokr_w1(?:_a)?", "lycoris", source=LYCORIS),
    Rule(
        r"lora_unet_.*_conv(?:1|2)\.lora_down\.weight", "lycoris", dim=2, sizes=(3,), source=KOHYA
    ),
    Rule(
        r"lora_unet_.*_in_layers_2\.lora_down\.weight", "lycoris", dim=2, sizes=(3,), source=KOHYA
    ),
    # LoRA: kohya prefixes, diffusers and PEFT suffixes.
    Rule(r"lora_(?:unet|te\d?|transformer)_.*", "lora", source=INVOKE),
    Rule(r".*\.(?:lora_down|lora_up|lora_A|lora_B)\.weight", "lora", source=INVOKE),
    Rule(r".*[._]lora\.(?:down|up)\.weight", "lora", source=INVOKE),
    # Textual inversion: A1111 (emb_params, string_to_param) and SDXL (clip_l + clip_g).
    Rule(r"emb_params", "embedding", source=INVOKE),
    Rule(r"string_to_param(?:\..*)?", "embedding", source=INVOKE),
    Rule(r"clip_g", "embedding", also=r"clip_l", source=INVOKE),
    # ControlNet: ldm (control_model.), diffusers, XLabs and InstantX Flux.
    Rule(r"(?:control_model\.)?input_hint_block\.0\.weight", "controlnet", source=COMFY),
    Rule(r"controlnet_cond_embedding\.conv_in\.weight", "controlnet", source=INVOKE),
    Rule(r"controlnet_x_embedder\.weight", "controlnet", source=INVOKE),
    Rule(r"controlnet_blocks\.0\.(?:weight|linear\.weight)", "controlnet", source=INVOKE),
    Rule(r"control_model\..*", "controlnet", source=INVOKE),
    # Upscalers: the ESRGAN family (old, new and BSRGAN key sets), Real-ESRGAN
    # compact (SRVGG), SwinIR.
    Rule(r"model\.1\.sub\.0\.RDB1\.conv1(?:x1|\.0)\.weight", "upscaler", source=SPANDREL),
    Rule(r"body\.0\.rdb1\.conv1\.weight", "upscaler", also=r"conv_first\.weight", source=SPANDREL),
    Rule(r"RRDB_trunk\.0\.RDB1\.conv1\.weight", "upscaler", source=SPANDREL),
    Rule(r"body\.0\.weight", "upscaler", ndim=4, also=r"body\.1\.weight", source=SPANDREL),
    Rule(r"layers\.0\.residual_group\.blocks\.0\.norm1\.weight", "upscaler", source=SPANDREL),
    # A denoiser with its text encoder or VAE is a checkpoint; alone, a diffusion model.
    Rule(
        r"model\.diffusion_model\..*",
        "checkpoint",
        also=r"(?:first_stage_model|vae|cond_stage_model|conditioner|text_encoders)\..*",
        source=COMFY,
    ),
    Rule(r"model\.diffusion_model\..*", "diffusion_model", source=COMFY),
    Rule(r"{P}input_blocks\.0\.0\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}double_blocks\.0\.img_attn\.qkv\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}joint_blocks\.0\.context_block\.attn\.qkv\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}double_layers\.0\.attn\.w1q\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}mlp_t5\.0\.weight", "diffusion_model", source=COMFY),
    Rule(
        r"{P}txt_in\.individual_token_refiner\.blocks\.0\.norm1\.weight",
        "diffusion_model",
        source=COMFY,
    ),
    Rule(
        r"{P}adaln_single\.emb\.timestep_embedder\.linear_1\.bias", "diffusion_model", source=COMFY
    ),
    Rule(r"{P}t_block\.1\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}clf\.1\.weight", "diffusion_model", source=COMFY),
    Rule(r"{P}cap_embedder\.1\.weight", "diffusion_model", source=COMFY),
    Rule(
        r"(?:unet\.)?conv_in\.weight",
        "diffusion_model",
        also=r"(?:unet\.)?time_embedding\..*",
        source=COMFY,
    ),
    Rule(
        r"(?:transformer\.)?single_transformer_blocks\.0\.attn\.to_q\.weight",
        "diffusion_model",
        source=INVOKE,
    ),
    # VAEs (alone: a checkpoint's VAE is matched above).
    Rule(r"(?:first_stage_model\.|vae\.)?decoder\.conv_in\.weight", "vae", source=INVOKE),
    Rule(r"(?:first_stage_model\.|vae\.)?encoder\.conv_in\.weight", "vae", source=INVOKE),
    # CLIP vision encoders (HF and open_clip), then text encoders.
    Rule(r"vision_model\.embeddings\.patch_embedding\.weight", "clip_vision", source=COMFY),
    Rule(r"visual\.conv1\.weight", "clip_vision", source=COMFY),
    Rule(
        r"(?:text_model\.)?encoder\.layers\.0\.self_attn\.k_proj\.weight",
        "text_encoder",
        source=COMFY,
    ),
    Rule(r"encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight", "text_encoder", source=COMFY),
    Rule(r"transformer\.resblocks\.0\.attn\.in_proj_weight", "text_encoder", source=COMFY),
    Rule(r"model\.layers\.0\.self_attn\.q_proj\.weight", "text_encoder", source=COMFY),
)

_XATTN_SD = r"{P}input_blocks\.1\.1\.transformer_blocks\.0\.attn2\.to_k\.weight"
_XATTN_XL = r"{P}input_blocks\.4\.1\.transformer_blocks\.0\.attn2\.to_k\.weight"
_XATTN_DIFFUSERS = (
    r"(?:unet\.)?down_blocks\.\d\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k\.weight"
)

# Checkpoints and diffusion models (denoisers). The cross-attention width
# (context_dim in ComfyUI) tells SD1 (768) from SD2 (1024), SDXL (2048) and the
# SDXL refiner (1280); label_emb's input (adm_in_channels) confirms SDXL (2816)
# and the refiner (2560).
DENOISER_RULES: tuple[Rule, ...] = (
    Rule(r"{P}distilled_guidance_layer\..*", "chroma", source=COMFY),
    Rule(r"{P}double_stream_modulation_img\.lin\.weight", "flux2", source=COMFY),
    Rule(
        r"{P}txt_in\.individual_token_refiner\.blocks\.0\.norm1\.weight",
        "hunyuan_video",
        source=COMFY,
    ),
    # Flux.1 dev carries guidance_in (guidance distillation); schnell does not.
    Rule(r"{P}guidance_in\.in_layer\.weight", "flux1", base_model="Flux.1 D", source=COMFY),
    Rule(
        r"{P}double_blocks\.0\.img_attn\.norm\.key_norm\.(?:scale|weight)",
        "flux1",
        base_model="Flux.1 S",
        source=COMFY,
    ),
    Rule(
        r"(?:transformer\.)?time_text_embed\.guidance_embedder\.linear_1\.weight",
        "flux1",
        base_model="Flux.1 D",
        source=INVOKE,
    ),
    Rule(
        r"(?:transformer\.)?single_transformer_blocks\.0\.attn\.to_q\.weight",
        "flux1",
        base_model="Flux.1 S",
        source=INVOKE,
    ),
    # SD3 (MMDiT): 3.5 Medium adds x_block self-attention (MMDiT-X); 3.5 Large
    # is 38 blocks deep (hidden size 38 * 64).
    Rule(
        r"{P}joint_blocks\.\d+\.x_block\.attn2\.qkv\.weight",
        "sd3",
        base_model="SD 3.5",
        source=COMFY,
    ),
    Rule(
        r"{P}x_embedder\.proj\.weight",
        "sd3",
        dim=0,
        sizes=(2432,),
        also=r"{P}joint_blocks\.0\..*",
        base_model="SD 3.5",
        source=COMFY,
    ),
    Rule(
        r"{P}joint_blocks\.0\.context_block\.attn\.qkv\.weight",
        "sd3",
        base_model="SD 3",
        source=COMFY,
    ),
    Rule(r"{P}double_layers\.0\.attn\.w1q\.weight", "auraflow", source=COMFY),
    Rule(r"{P}mlp_t5\.0\.weight", "hunyuan_dit", source=COMFY),
    # PixArt in diffusers layout shares adaln_single with LTXV; its pos_embed tells it apart.
    Rule(r"{P}pos_embed\.proj\.bias", "pixart", also=r"{P}adaln_single\..*", source=COMFY),
    Rule(r"{P}adaln_single\.emb\.timestep_embedder\.linear_1\.bias", "ltxv", source=COMFY),
    Rule(
        r"{P}t_block\.1\.weight",
        "pixart",
        also=r"{P}ar_embedder\..*",
        base_model="PixArt a",
        source=COMFY,
    ),
    Rule(r"{P}t_block\.1\.weight", "pixart", base_model="PixArt E", source=COMFY),
    Rule(r"{P}clf\.1\.weight", "stable_cascade", source=COMFY),
    Rule(r"{P}cap_embedder\.1\.weight", "lumina2", source=COMFY),
    Rule(r"{P}input_blocks\.1\.1\.time_stack\.0\.attn1\.to_q\.weight", "svd", source=COMFY),
    Rule(r"{P}label_emb\.0\.0\.weight", "sdxl_refiner", dim=1, sizes=(2560,), source=COMFY),
    Rule(r"{P}label_emb\.0\.0\.weight", "sdxl", dim=1, sizes=(2816,), source=COMFY),
    Rule(_XATTN_XL, "sdxl", dim=1, sizes=(2048,), source=INVOKE),
    Rule(_XATTN_XL, "sdxl_refiner", dim=1, sizes=(1280,), source=INVOKE),
    Rule(_XATTN_SD, "sd2", dim=1, sizes=(1024,), source=COMFY),
    Rule(_XATTN_SD, "sd1", dim=1, sizes=(768,), source=COMFY),
    Rule(r"(?:unet\.)?add_embedding\.linear_1\.weight", "sdxl", dim=1, sizes=(2816,), source=COMFY),
    Rule(
        r"(?:unet\.)?add_embedding\.linear_1\.weight",
        "sdxl_refiner",
        dim=1,
        sizes=(2560,),
        source=COMFY,
    ),
    Rule(_XATTN_DIFFUSERS, "sd2", dim=1, sizes=(1024,), source=COMFY),
    Rule(_XATTN_DIFFUSERS, "sd1", dim=1, sizes=(768,), source=COMFY),
)

_KOHYA_XATTN = r"lora_unet_.*attn2_to_k\.(?:lora_down\.weight|hada_w[12]_b)"
_PEFT_XATTN = (
    r"(?:unet\.|base_model\.model\.)?.*attn2[._](?:processor[._])?to_k"
    r"(?:_lora)?[._](?:lora_A|lora[._]down|lora_down|down)\.weight"
)
_KOHYA_TE_ATTN = r"lora_te_.*self_attn_k_proj\.(?:lora_down\.weight|hada_w[12]_b)"

# LoRA and LyCORIS. The width of the cross-attention key projection's input is
# the text embedding width (InvokeAI lora_token_vector_length): 768 SD1, 1024
# SD2, 2048 SDXL, 1280 SDXL refiner. Flux and SD3 are told by block names.
LORA_RULES: tuple[Rule, ...] = (
    Rule(r"lora_unet_(?:double|single)_blocks_\d+_.*", "flux1", source=KOHYA),
    Rule(r"lora_transformer_single_transformer_blocks_\d+_.*", "flux1", source=INVOKE),
    Rule(
        r"(?:transformer\.|base_model\.model\.)?single_transformer_blocks\.\d+\..*",
        "flux1",
        source=INVOKE,
    ),
    Rule(
        r"(?:diffusion_model\.|base_model\.model\.|transformer\.)?(?:double|single)_blocks\.\d+\..*",
        "flux1",
        source=INVOKE,
    ),
    Rule(r"lora_unet_joint_blocks_\d+_.*", "sd3", source=KOHYA),
    Rule(
        r"(?:transformer\.)?transformer_blocks\.\d+\.attn\.to_k\.lora_A\.weight",
        "flux1",
        dim=1,
        sizes=(3072,),
        source=INVOKE,
    ),
    Rule(
        r"(?:transformer\.)?transformer_blocks\.\d+\.attn\.to_k\.lora_A\.weight",
        "sd3",
        dim=1,
        sizes=(1536, 2432),
        source=COMFY,
    ),
    Rule(_KOHYA_XATTN, "sdxl", dim=1, sizes=(2048,), source=INVOKE),
    Rule(_KOHYA_XATTN, "sdxl_refiner", dim=1, sizes=(1280,), source=INVOKE),
    Rule(_KOHYA_XATTN, "sd2", dim=1, sizes=(1024,), source=INVOKE),
    Rule(_KOHYA_XATTN, "sd1", dim=1, sizes=(768,), source=INVOKE),
    Rule(_PEFT_XATTN, "sdxl", dim=1, sizes=(2048,), source=INVOKE),
    Rule(_PEFT_XATTN, "sd2", dim=1, sizes=(1024,), source=INVOKE),
    Rule(_PEFT_XATTN, "sd1", dim=1, sizes=(768,), source=INVOKE),
    # Two text encoders (kohya te1/te2, diffusers text_encoder_2): SDXL.
    Rule(r"lora_te2_.*", "sdxl", source=KOHYA),
    Rule(r"text_encoder_2\..*", "sdxl", source=INVOKE),
    Rule(_KOHYA_TE_ATTN, "sd1", dim=1, sizes=(768,), source=INVOKE),
    Rule(_KOHYA_TE_ATTN, "sd2", dim=1, sizes=(1024,), source=INVOKE),
    # Last resort, by naming: kohya names SDXL U-Net modules after sgm's
    # input_blocks (sdxl_original_unet.py), SD1 ones after diffusers' down_blocks.
    Rule(r"lora_unet_(?:input|output)_blocks_\d+_1_.*", "sdxl", source=KOHYA),
    Rule(r"lora_unet_(?:down|up)_blocks_\d+_.*", "sd1", source=KOHYA),
)

# Textual inversion: the embedding width is the text encoder's (InvokeAI).
EMBEDDING_RULES: tuple[Rule, ...] = (
    Rule(r"clip_g", "sdxl", dim=-1, sizes=(1280,), also=r"clip_l", source=INVOKE),
    Rule(r"emb_params", "sd1", dim=-1, sizes=(768,), source=INVOKE),
    Rule(r"emb_params", "sd2", dim=-1, sizes=(1024,), source=INVOKE),
    Rule(r"string_to_param(?:\..*)?", "sd1", dim=-1, sizes=(768,), source=INVOKE),
    Rule(r"string_to_param(?:\..*)?", "sd2", dim=-1, sizes=(1024,), source=INVOKE),
)

_CN_XATTN = r"(?:control_model\.)?input_blocks\.\d+\.1\.transformer_blocks\.0\.attn2\.to_k\.weight"
_CN_XATTN_DIFFUSERS = r"down_blocks\.\d+\.attentions\.0\.transformer_blocks\.0\.attn2\.to_k\.weight"

CONTROLNET_RULES: tuple[Rule, ...] = (
    Rule(r"controlnet_x_embedder\.weight", "flux1", source=INVOKE),
    Rule(
        r"controlnet_blocks\.0\.(?:weight|linear\.weight)",
        "flux1",
        also=r"(?:double_blocks|transformer_blocks|single_transformer_blocks)\..*",
        source=INVOKE,
    ),
    Rule(_CN_XATTN, "sdxl", dim=1, sizes=(2048, 1280), source=INVOKE),
    Rule(_CN_XATTN, "sd2", dim=1, sizes=(1024,), source=INVOKE),
    Rule(_CN_XATTN, "sd1", dim=1, sizes=(768,), source=INVOKE),
    Rule(_CN_XATTN_DIFFUSERS, "sdxl", dim=1, sizes=(2048, 1280), source=INVOKE),
    Rule(_CN_XATTN_DIFFUSERS, "sd2", dim=1, sizes=(1024,), source=INVOKE),
    Rule(_CN_XATTN_DIFFUSERS, "sd1", dim=1, sizes=(768,), source=INVOKE),
    Rule(
        r"(?:control_model\.)?label_emb\.0\.0\.weight", "sdxl", dim=1, sizes=(2816,), source=COMFY
    ),
    Rule(r"add_embedding\.linear_1\.weight", "sdxl", dim=1, sizes=(2816,), source=COMFY),
)

_VAE_IN = r"(?:first_stage_model\.|vae\.)?decoder\.conv_in\.weight"

# VAEs: the latent channels at the decoder's input (InvokeAI): 32 Flux.2,
# 16 Flux.1 (SD3's VAE too), 4 SD1/SD2/SDXL (the same shapes; see the
# file-name hint in refine_with_metadata).
VAE_RULES: tuple[Rule, ...] = (
    Rule(_VAE_IN, "flux2", dim=1, sizes=(32,), ndim=4, source=INVOKE),
    Rule(_VAE_IN, "flux1", dim=1, sizes=(16,), ndim=4, source=INVOKE),
    Rule(_VAE_IN, "sd1", dim=1, sizes=(4,), ndim=4, source=INVOKE),
)

UPSCALER_RULES: tuple[Rule, ...] = (
    Rule(r"model\.1\.sub\.0\.RDB1\.conv1(?:x1|\.0)\.weight", "esrgan", source=SPANDREL),
    Rule(r"body\.0\.rdb1\.conv1\.weight", "esrgan", source=SPANDREL),
    Rule(r"RRDB_trunk\.0\.RDB1\.conv1\.weight", "esrgan", source=SPANDREL),
    Rule(r"body\.0\.weight", "realesrgan_compact", ndim=4, source=SPANDREL),
    Rule(r"layers\.0\.residual_group\.blocks\.0\.norm1\.weight", "swinir", source=SPANDREL),
)

_CLIP_TEXT = r"(?:text_model\.)?encoder\.layers\.0\.self_attn\.k_proj\.weight"
_OPENCLIP_TEXT = r"transformer\.resblocks\.0\.attn\.in_proj_weight"

TEXT_ENCODER_RULES: tuple[Rule, ...] = (
    Rule(_CLIP_TEXT, "clip_l", dim=1, sizes=(768,), source=COMFY),
    Rule(_CLIP_TEXT, "clip_h", dim=1, sizes=(1024,), source=COMFY),
    Rule(_CLIP_TEXT, "clip_g", dim=1, sizes=(1280,), source=COMFY),
    Rule(_OPENCLIP_TEXT, "clip_h", dim=1, sizes=(1024,), source=COMFY),
    Rule(_OPENCLIP_TEXT, "clip_g", dim=1, sizes=(1280,), source=COMFY),
    Rule(r"encoder\.block\.0\.layer\.0\.SelfAttention\.q\.weight", "t5", source=COMFY),
    Rule(r"model\.layers\.0\.self_attn\.q_proj\.weight", "llm", source=COMFY),
)

_VISION = r"vision_model\.embeddings\.patch_embedding\.weight"

CLIP_VISION_RULES: tuple[Rule, ...] = (
    Rule(_VISION, "clip_vit_l", dim=0, sizes=(1024,), source=COMFY),
    Rule(_VISION, "clip_vit_h", dim=0, sizes=(1280,), source=COMFY),
    Rule(_VISION, "clip_vit_bigg", dim=0, sizes=(1664,), source=COMFY),
)

ARCHITECTURE_RULES: dict[str, tuple[Rule, ...]] = {
    "checkpoint": DENOISER_RULES,
    "diffusion_model": DENOISER_RULES,
    "lora": LORA_RULES,
    "lycoris": LORA_RULES,
    "embedding": EMBEDDING_RULES,
    "controlnet": CONTROLNET_RULES,
    "vae": VAE_RULES,
    "upscaler": UPSCALER_RULES,
    "text_encoder": TEXT_ENCODER_RULES,
    "clip_vision": CLIP_VISION_RULES,
}

# The label model sites file a model under, by architecture, when nothing
# more specific is known (Civitai's base-model names).
BASE_MODEL_LABELS: dict[str, str] = {
    "sd1": "SD 1.5",
    "sd2": "SD 2.1",
    "sdxl": "SDXL 1.0",
    "sdxl_refiner": "SDXL 1.0",
    "sd3": "SD 3",
    "flux1": "Flux.1 D",
    "flux2": "Flux.2",
    "chroma": "Chroma",
    "auraflow": "AuraFlow",
    "hunyuan_dit": "Hunyuan 1",
    "hunyuan_video": "Hunyuan Video",
    "ltxv": "LTXV",
    "pixart": "PixArt a",
    "stable_cascade": "Stable Cascade",
    "lumina2": "Lumina",
    "svd": "SVD",
    "wan": "Wan Video",
    "hidream": "HiDream",
    "qwen_image": "Qwen",
    "cosmos": "Cosmos",
}
# Kinds whose files belong to no base model.
NO_BASE_MODEL = frozenset({"upscaler", "text_encoder", "clip_vision"})

# modelspec.architecture (before any "/adapter" suffix) -> (architecture, label).
# Ids from the ModelSpec README and kohya's sai_model_spec.py. First match wins.
MODELSPEC_ARCHITECTURES: tuple[tuple[str, str, str], ...] = (
    (r"stable-diffusion-xl-v1-refiner", "sdxl_refiner", ""),
    (r"stable-diffusion-xl-turbo", "sdxl", "SDXL Turbo"),
    (r"stable-diffusion-xl", "sdxl", ""),
    (r"stable-diffusion-v2-768", "sd2", "SD 2.1 768"),
    (r"stable-diffusion-v2", "sd2", ""),
    (r"stable-diffusion-v1", "sd1", ""),
    (r"stable-diffusion-3[-.]5", "sd3", "SD 3.5"),
    (r"stable-diffusion-3", "sd3", "SD 3"),
    (r"flux-1-dev", "flux1", "Flux.1 D"),
    (r"flux-1-schnell", "flux1", "Flux.1 S"),
    (r"flux-1", "flux1", ""),
    (r"chroma", "chroma", ""),
    (r"lumina-2", "lumina2", ""),
    (r"auraflow", "auraflow", ""),
    (r"stable-cascade", "stable_cascade", ""),
    (r"stable-video-diffusion", "svd", ""),
)
# The adapter suffix of modelspec.architecture -> kind.
MODELSPEC_KINDS = {
    "lora": "lora",
    "textual-inversion": "embedding",
    "vae": "vae",
    "controlnet": "controlnet",
    "control-lora": "lora",
}
# kohya's ss_base_model_version -> (architecture, label).
SS_BASE_MODEL_VERSIONS: tuple[tuple[str, str, str], ...] = (
    (r"sd_v1", "sd1", ""),
    (r"sd_v2_v", "sd2", "SD 2.1 768"),
    (r"sd_v2", "sd2", ""),
    (r"sdxl_base_v1", "sdxl", ""),
    (r"sd3", "sd3", ""),
    (r"flux1", "flux1", ""),
    (r"chroma", "chroma", ""),
    (r"lumina2", "lumina2", ""),
)
# SDXL fine-tunes that model sites list as base models of their own, found in
# the name of the checkpoint a LoRA was trained on (ss_sd_model_name) or in a
# checkpoint's own modelspec.title. NoobAI (Illustrious-based) comes first.
SDXL_FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    (r"noob", "NoobAI"),
    (r"pony", "Pony"),
    (r"illustrious", "Illustrious"),
)
# GGUF general.architecture (ComfyUI-GGUF's convert.py, llama.cpp) -> (architecture, kind).
GGUF_ARCHITECTURES: dict[str, tuple[str, str]] = {
    "sd1": ("sd1", "diffusion_model"),
    "sdxl": ("sdxl", "diffusion_model"),
    "sd3": ("sd3", "diffusion_model"),
    "flux": ("flux1", "diffusion_model"),
    "aura": ("auraflow", "diffusion_model"),
    "ltxv": ("ltxv", "diffusion_model"),
    "hyvid": ("hunyuan_video", "diffusion_model"),
    "lumina2": ("lumina2", "diffusion_model"),
    "wan": ("wan", "diffusion_model"),
    "hidream": ("hidream", "diffusion_model"),
    "qwen_image": ("qwen_image", "diffusion_model"),
    "cosmos": ("cosmos", "diffusion_model"),
    "chroma": ("chroma", "diffusion_model"),
    "t5": ("t5", "text_encoder"),
    "t5encoder": ("t5", "text_encoder"),
    "llama": ("llm", "text_encoder"),
    "qwen2": ("llm", "text_encoder"),
    "qwen2vl": ("llm", "text_encoder"),
    "qwen3": ("llm", "text_encoder"),
    "gemma2": ("llm", "text_encoder"),
    "gemma3": ("llm", "text_encoder"),
}


def rules_markdown() -> str:
    """The tables as Markdown, as docs/file-intelligence.md prints them."""
    sections = [("Kind: what the file is", KIND_RULES, "kind")]
    sections += [
        (f"Architecture: {title}", ARCHITECTURE_RULES[kind], "architecture")
        for kind, title in (
            ("checkpoint", "checkpoints and diffusion models"),
            ("lora", "LoRA and LyCORIS"),
            ("embedding", "textual-inversion embeddings"),
            ("controlnet", "ControlNets"),
            ("vae", "VAEs"),
            ("upscaler", "upscalers"),
            ("text_encoder", "text encoders"),
            ("clip_vision", "CLIP vision encoders"),
        )
    ]
    out: list[str] = []
    for title, rules, column in sections:
        out += [
            f"#### {title}",
            "",
            f"| # | tensor name (regex) | shape test | {column} | label | source |",
        ]
        out.append("| --- | --- | --- | --- | --- | --- |")
        for number, rule in enumerate(rules, 1):
            key = rule.key.replace("|", "\\|")
            test = rule.shape_test().replace("|", "\\|")
            label = rule.base_model
            out.append(
                f"| {number} | `{key}` | {test} | `{rule.result}` | {label} | {rule.source} |"
            )
        out.append("")
    return "\n".join(out)
