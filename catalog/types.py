"""Model types: the configured set, and the mapping of legacy singular names."""

from __future__ import annotations

from django.conf import settings

from config.env import STANDARD_MODEL_TYPES

OTHERS = "others"

# Singular names the previous tool stored, mapped to ComfyUI's folder names.
SINGULAR_TYPES = {
    "checkpoint": "checkpoints",
    "lora": "loras",
    "embedding": "embeddings",
    "upscale": "upscale_models",
    "upscale_model": "upscale_models",
    "hypernetwork": "hypernetworks",
    "text_encoder": "text_encoders",
    "diffusion_model": "diffusion_models",
    "style_model": "style_models",
}


def configured_types() -> list[str]:
    """The types of MODEL_ROOTS, or ComfyUI's standard folder names when none are set."""
    roots = settings.MODEL_ROOTS
    return sorted(roots) if roots else list(STANDARD_MODEL_TYPES)


def canonical_type(raw: str) -> str:
    """Map a legacy or differently-cased type name to the catalog's folder name."""
    name = raw.strip()
    lowered = name.lower()
    return SINGULAR_TYPES.get(lowered, lowered if lowered in STANDARD_MODEL_TYPES else name)
