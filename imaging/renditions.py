"""The rendition engine: untrusted bytes in, three WebP renditions out.

Pure (no database, no storage): ``imaging.services`` reads and writes the
files, the staging area reuses the same two entry points for pending images.

- ``decode_check`` decides whether bytes from a client are a picture we accept.
- ``render_renditions`` decodes once, applies the EXIF orientation, caps the
  picture at ``MAX_PIXELS`` and encodes ``high``, ``medium`` and ``low``, each
  tier resized from the previous one. Metadata (EXIF, GPS, XMP) is never copied
  into a rendition; the ICC colour profile is, so colours stay right.
- An animated picture (GIF, WebP, APNG) keeps its animation in ``high``: every
  frame, with its duration and the loop count, as an animated WebP; ``medium``
  and ``low`` (thumbnails) show the first frame. Within ``ANIMATION_PIXELS``
  the frames have the still ``high`` size; a longer animation gets smaller
  frames so that the work and memory stay bounded. Past ``MAX_FRAMES`` or
  ``ANIMATION_DECODE_PIXELS`` (a hostile file), ``high`` is the first frame.

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
RENDITION_VERSION = 2  # 2: animations kept in high

# Animations (high tier): at most this many pixels over all frames once scaled
# (8 M: 32 frames of 512x512 at full size; 32 MB of RGBA in memory, about 4x
# the encoding time of a still high tier), at most MAX_FRAMES frames, and at
# most ANIMATION_DECODE_PIXELS decoded (frames x canvas) before anything is
# scaled; past those two, the first frame only.
ANIMATION_PIXELS = 8_000_000
MAX_FRAMES = 1000
ANIMATION_DECODE_PIXELS = 200_000_000
# Browsers show a GIF frame of 0-10 ms for 100 ms; the WebP keeps that speed.
GIF_MIN_DURATION_MS = 20
GIF_DEFAULT_DURATION_MS = 100

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

    An animated source gets an animated ``high`` tier (see the module's
    docstring). Raises UnsupportedMedia or InvalidInput like ``decode_check``
    when the source cannot be decoded.
    """
    try:
        image, sizes, icc_profile = _decoded(source)
        renditions = _encoded_tiers(image, sizes, icc_profile)
        animation = _animated_webp(source, sizes["high"], icc_profile)
    except InvalidInput:
        raise
    except Exception:
        raise _unsupported() from None
    if animation is not None:
        renditions["high"] = animation
    return renditions


_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def animation_frame_size(high: tuple[int, int], frames: int) -> tuple[int, int]:
    """Frame size of an animated high tier: the still high size, scaled down so
    that all frames together hold at most ANIMATION_PIXELS."""
    width, height = high
    scale = min(1.0, math.sqrt(ANIMATION_PIXELS / (frames * width * height)))
    if scale >= 1.0:
        return high
    return max(1, math.floor(width * scale)), max(1, math.floor(height * scale))


def _animated_webp(source: bytes, high: tuple[int, int], icc_profile: bytes | None) -> bytes | None:
    """The animated WebP of an animated source, or None for a still picture
    (or an animation past the limits, whose high tier stays its first frame)."""
    with _open(io.BytesIO(source)) as image:
        frames = getattr(image, "n_frames", 1)
        if frames < 2:
            return None
        if frames > MAX_FRAMES or frames * image.width * image.height > ANIMATION_DECODE_PIXELS:
            return None
        transpose = _TRANSPOSE.get(image.getexif().get(ExifTags.Base.Orientation, 1))
        size = animation_frame_size(high, frames)
        # GIF: no loop extension means "play once"; WebP and APNG always say.
        loop = int(image.info.get("loop", 1))
        is_gif = image.format == "GIF"
        encoded: list[Image.Image] = []
        durations: list[int] = []
        transparent = False
        for index in range(frames):
            image.seek(index)
            frame = image.convert("RGBA")  # frames as shown: composed, with transparency
            # Read after the frame is loaded: WebP sets its duration on load.
            duration = int(image.info.get("duration") or 0)
            if is_gif and duration < GIF_MIN_DURATION_MS:
                duration = GIF_DEFAULT_DURATION_MS
            if transpose is not None:
                frame = frame.transpose(transpose)
            if frame.size != size:
                # reducing_gap: a cheap whole-factor reduce first, frames add up.
                frame = frame.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
            transparent = transparent or frame.getextrema()[3][0] < 255
            encoded.append(frame)
            durations.append(duration)
    buffer = io.BytesIO()
    encoded[0].save(
        buffer,
        format="WEBP",
        save_all=True,
        append_images=encoded[1:],
        duration=durations,
        loop=loop,
        quality=TIERS[0].webp_quality,
        method=WEBP_METHOD,
        alpha_quality=ALPHA_QUALITY,
        icc_profile=icc_profile or "",
    )
    return _with_alpha_flag(buffer.getvalue()) if transparent else buffer.getvalue()


def _with_alpha_flag(webp: bytes) -> bytes:
    """The animated WebP with its VP8X "alpha" flag set.

    libwebp's animation encoder crops each frame to the rectangle that changed;
    when no cropped frame needs an alpha channel it leaves the flag unset even
    though the canvas around the frames is transparent, and decoders that trust
    the flag (Pillow, browsers) then paint that area opaque black. The WebP
    format says to set it whenever the image holds transparency.
    """
    if webp[12:16] != b"VP8X":
        return webp
    flagged = bytearray(webp)
    flagged[20] |= 0x10
    return bytes(flagged)


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
