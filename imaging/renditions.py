"""The rendition engine: untrusted bytes in, three WebP renditions out.

Pure (no database, no storage): ``imaging.services`` reads and writes the
files, the staging area reuses the same two entry points for pending images.

- ``decode_check`` decides whether bytes from a client are a picture we accept.
- ``render_renditions`` decodes once, applies the EXIF orientation, caps the
  picture at ``MAX_PIXELS`` and encodes ``high``, ``medium`` and ``low``, each
  tier resized from the previous one. Metadata (EXIF, GPS, XMP) is never copied
  into a rendition; the ICC colour profile is, so colours stay right.

WebP settings come from ``bench/renditions.py`` (see docs/images.md): method 4
takes less than half the CPU time of method 6 for files 5-7 % larger. With
transparency, libwebp's default ``alpha_quality=100`` is several times slower
at method 6; at method 4 99 and 100 cost the same, and 99 (alpha still visually
lossless) keeps that trap shut should the method ever be raised.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageOps

from config.api import InvalidInput, UnsupportedMedia

MAX_PIXELS = 2_000_000
# WebP cannot hold a side longer than this; a 100000x20 strip is under the
# pixel cap but would not encode.
MAX_WEBP_SIDE = 16383
WEBP_METHOD = 4
ALPHA_QUALITY = 99
# Part of every rendition's ETag: bump it when the output of this module changes
# so that clients holding old bytes fetch the new ones.
RENDITION_VERSION = 1

# Formats a client may upload. Pillow guesses some formats (TGA, for one) from
# weak signatures, so a text file could pass as a picture without this list.
ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF", "AVIF")

# Modes whose pixels carry an alpha channel (premultiplied ones included).
_ALPHA_MODES = {"RGBA", "RGBa", "LA", "La", "PA"}


@dataclass(frozen=True)
class Tier:
    quality_name: str
    scale: float
    webp_quality: int


TIERS = (Tier("high", 1.0, 80), Tier("medium", 0.66, 60), Tier("low", 0.33, 45))


def _accepted_formats() -> tuple[str, ...]:
    Image.init()
    return tuple(name for name in ACCEPTED_FORMATS if name in Image.OPEN)


def _pixel_limit() -> int | None:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; a picture
    # in the warning band is refused too.
    return Image.MAX_IMAGE_PIXELS


def _too_large(width: int, height: int) -> InvalidInput:
    return InvalidInput(
        f"The picture is {width}x{height} pixels, more than the {_pixel_limit():,} "
        "pixels accepted (a possible decompression bomb).",
        code="image_too_large_in_pixels",
    )


def _open(data: io.BytesIO) -> Image.Image:
    """Open untrusted bytes, refusing bombs before any pixel is decoded."""
    try:
        image = Image.open(data, formats=_accepted_formats())
    except Image.DecompressionBombError:
        raise InvalidInput(
            f"The picture has more than {_pixel_limit():,} pixels (a possible decompression bomb).",
            code="image_too_large_in_pixels",
        ) from None
    limit = _pixel_limit()
    if limit and image.width * image.height > limit:
        image.close()
        raise _too_large(image.width, image.height)
    return image


def _unsupported() -> UnsupportedMedia:
    return UnsupportedMedia(
        "The file is not a picture this service can read "
        f"(accepted: {', '.join(_accepted_formats())}).",
        code="unsupported_image",
    )


def _turns_quarter(image: Image.Image) -> bool:
    orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    return orientation in (5, 6, 7, 8)


def decode_check(content: bytes) -> tuple[str, int, int]:
    """(format, width, height) of a picture Pillow fully decodes.

    The size is the one a viewer shows, EXIF orientation applied.
    Raises UnsupportedMedia (415) for anything that is not a readable picture
    (SVG, text named .png, truncated files) and InvalidInput (400, code
    ``image_too_large_in_pixels``) for decompression bombs.
    """
    try:
        with _open(io.BytesIO(content)) as image:
            image_format, (width, height) = image.format or "", image.size
            # A JPEG is decoded at 1/8 scale: every byte is still read, at a
            # fraction of the cost; other formats decode fully.
            image.draft(image.mode, (1, 1))
            image.load()
            if _turns_quarter(image):
                width, height = height, width
    except InvalidInput:
        raise
    except Image.DecompressionBombError:
        raise _too_large(width, height) from None
    except Exception:  # Pillow raises many kinds of errors for hostile bytes.
        raise _unsupported() from None
    return image_format, width, height


def capped_size(width: int, height: int) -> tuple[int, int]:
    """The size of the ``high`` tier: at most MAX_PIXELS, aspect ratio kept."""
    scale = min(
        1.0,
        math.sqrt(MAX_PIXELS / (width * height)),
        MAX_WEBP_SIDE / width,
        MAX_WEBP_SIDE / height,
    )
    if scale >= 1.0:
        return width, height
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def tier_sizes(width: int, height: int) -> dict[str, tuple[int, int]]:
    """Pixel size of every tier for a picture of (width, height) once oriented."""
    high = capped_size(width, height)
    return {
        tier.quality_name: (
            max(1, round(high[0] * tier.scale)),
            max(1, round(high[1] * tier.scale)),
        )
        for tier in TIERS
    }


def _normalized(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has any transparency (P/L/RGB keys too)."""
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    if image.mode.startswith("I"):
        # 16/32-bit greyscale: scale to 8 bits instead of clipping to white.
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    target = "RGBA" if has_alpha else "RGB"
    return image if image.mode == target else image.convert(target)


def _decoded(source: bytes) -> tuple[Image.Image, dict[str, tuple[int, int]], bytes | None]:
    """The oriented, normalised picture, its tier sizes and its ICC profile.

    JPEG draft mode lets libjpeg decode at 1/2, 1/4 or 1/8 scale, never below
    the high tier's size; the tier sizes come from the full-size picture.
    """
    image = _open(io.BytesIO(source))
    icc_profile = image.info.get("icc_profile")
    full_size = image.size
    image.draft(image.mode, capped_size(*full_size))
    decoded_size = image.size
    ImageOps.exif_transpose(image, in_place=True)  # in place: no copy when upright
    if image.size != decoded_size:  # turned by a quarter
        full_size = full_size[::-1]
    return _normalized(image), tier_sizes(*full_size), icc_profile


def render_renditions(source: bytes) -> dict[str, bytes]:
    """{quality name: WebP bytes} for the three tiers of an encoded picture.

    Raises UnsupportedMedia or InvalidInput like ``decode_check`` when the
    source cannot be decoded.
    """
    try:
        image, sizes, icc_profile = _decoded(source)
    except InvalidInput:
        raise
    except Exception:
        raise _unsupported() from None
    return _encoded_tiers(image, sizes, icc_profile)


def render_image(image: Image.Image) -> dict[str, bytes]:
    """{quality name: WebP bytes} for a picture already decoded and oriented."""
    return _encoded_tiers(_normalized(image), tier_sizes(*image.size), None)


def _encoded_tiers(
    image: Image.Image, sizes: dict[str, tuple[int, int]], icc_profile: bytes | None
) -> dict[str, bytes]:
    renditions: dict[str, bytes] = {}
    for tier in TIERS:
        # Each tier from the previous one: the large first step runs once.
        size = sizes[tier.quality_name]
        if image.size != size:
            image = image.resize(size, Image.Resampling.LANCZOS)
        renditions[tier.quality_name] = encode_webp(image, tier.webp_quality, icc_profile)
    return renditions


def encode_webp(image: Image.Image, quality: int, icc_profile: bytes | None = None) -> bytes:
    """WebP bytes of an RGB/RGBA picture with the service's encoder settings."""
    buffer = io.BytesIO()
    image.save(
        buffer,
        format="WEBP",
        quality=quality,
        method=WEBP_METHOD,
        alpha_quality=ALPHA_QUALITY,
        icc_profile=icc_profile or "",
    )
    return buffer.getvalue()
