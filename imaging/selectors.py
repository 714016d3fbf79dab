"""Read queries of sample images."""

from __future__ import annotations

from catalog.models import CatalogModel
from config.api import NotFound
from imaging.models import SampleImage


def sample_image_get(*, sha256: str, seq: int) -> SampleImage:
    """Image ``seq`` of model ``sha256``, or NotFound (404)."""
    image = SampleImage.objects.filter(model_id=sha256, seq=seq).first()
    if image is None:
        raise NotFound(f"Model {sha256} has no image with seq {seq}.", code="image_not_found")
    return image


def sample_image_count(*, sha256: str) -> int:
    """How many images model ``sha256`` has (0 for an unknown model)."""
    return SampleImage.objects.filter(model_id=sha256).count()


def sample_image_seqs(*, sha256: str) -> list[int]:
    """The seqs of model ``sha256``'s images in order (empty for an unknown model)."""
    return list(
        SampleImage.objects.filter(model_id=sha256).order_by("seq").values_list("seq", flat=True)
    )


def catalog_model_get(*, sha256: str) -> CatalogModel:
    """The catalog model images are added to, or NotFound (404)."""
    model = CatalogModel.objects.filter(pk=sha256).first()
    if model is None:
        raise NotFound(f"No catalog model has sha256 {sha256}.", code="model_not_found")
    return model
