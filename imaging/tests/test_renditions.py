"""The pure rendition engine: sizes, qualities, alpha, orientation, metadata."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from config.api import InvalidInput, UnsupportedMedia
from imaging.renditions import (
    MAX_PIXELS,
    decode_check,
    render_image,
    render_renditions,
    tier_sizes,
)
from imaging.tests.pictures import (
    bomb_png,
    encode,
    jpeg_with_exif,
    picture,
    svg,
    transparent,
    transparent_image,
)


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_three_webp_tiers_at_full_066_and_033_scale():
    renditions = render_renditions(picture((300, 200)))

    assert {name: opened(data).format for name, data in renditions.items()} == {
        "high": "WEBP",
        "medium": "WEBP",
        "low": "WEBP",
    }
    assert opened(renditions["high"]).size == (300, 200)
    assert opened(renditions["medium"]).size == (198, 132)
    assert opened(renditions["low"]).size == (99, 66)


def test_large_picture_is_capped_at_two_million_pixels_keeping_aspect():
    renditions = render_renditions(picture((3000, 1500), image_format="JPEG"))

    width, height = opened(renditions["high"]).size
    assert width * height <= MAX_PIXELS
    assert width * height > MAX_PIXELS * 0.99
    assert abs(width / height - 2.0) < 0.01


def test_lower_tiers_are_smaller_files():
    renditions = render_renditions(picture((800, 600), color=(10, 120, 240)))

    assert len(renditions["high"]) >= len(renditions["medium"]) >= len(renditions["low"])


def test_tier_sizes_never_reach_zero_for_thin_strips():
    assert tier_sizes(2, 1)["low"] == (1, 1)


def test_tier_sizes_respect_the_webp_side_limit():
    width, height = tier_sizes(200_000, 10)["high"]

    assert width <= 16383
    assert height >= 1


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_transparency_is_kept(mode):
    high = opened(render_renditions(transparent(mode))["high"])

    assert high.mode == "RGBA"
    assert high.getpixel((2, 2))[3] == 0
    assert high.getpixel((high.width - 3, 2))[3] == 255


def test_transparency_of_a_pa_picture_is_kept():
    high = opened(render_image(transparent_image().convert("PA"))["high"])

    assert high.getpixel((2, 2))[3] == 0
    assert high.getpixel((high.width - 3, 2))[3] == 255


def test_opaque_picture_has_no_alpha_channel():
    assert opened(render_renditions(picture())["high"]).mode == "RGB"


def test_exif_orientation_is_applied():
    # Orientation 6: the stored 60x40 picture is shown turned clockwise, so
    # its left (red) half ends up on top.
    high = opened(render_renditions(jpeg_with_exif((60, 40), orientation=6))["high"])

    assert high.size == (40, 60)
    red, _green, blue = high.getpixel((20, 5))
    assert red > 200 and blue < 60


def test_metadata_is_not_copied_into_renditions():
    for data in render_renditions(jpeg_with_exif(gps=True)).values():
        image = opened(data)
        assert "exif" not in image.info
        assert "xmp" not in image.info
        assert len(image.getexif()) == 0


def test_decode_check_returns_format_and_displayed_size():
    assert decode_check(picture((64, 48))) == ("PNG", 64, 48)
    assert decode_check(jpeg_with_exif((60, 40), orientation=8)) == ("JPEG", 40, 60)


@pytest.mark.parametrize(
    "content",
    [svg(), b"just some text named picture.png", b"", picture(image_format="PNG")[:60]],
    ids=["svg", "text", "empty", "truncated"],
)
def test_decode_check_refuses_what_pillow_cannot_decode(content):
    with pytest.raises(UnsupportedMedia):
        decode_check(content)


def test_decode_check_refuses_formats_outside_the_accepted_list():
    with pytest.raises(UnsupportedMedia):
        decode_check(encode(Image.new("RGB", (8, 8)), "TGA"))


def test_decompression_bomb_is_invalid_input():
    with pytest.raises(InvalidInput) as raised:
        decode_check(bomb_png())

    assert raised.value.code == "image_too_large_in_pixels"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_picture_in_pillows_warning_band_is_refused_too(monkeypatch):
    # Between MAX_IMAGE_PIXELS and twice it Pillow only warns.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 48 - 1)

    with pytest.raises(InvalidInput) as raised:
        decode_check(picture((64, 48)))
    with pytest.raises(InvalidInput):
        render_renditions(picture((64, 48)))

    assert raised.value.code == "image_too_large_in_pixels"


def test_sixteen_bit_greyscale_keeps_its_tones():
    grey = Image.new("I;16", (20, 20), 32768)

    high = opened(render_renditions(encode(grey, "PNG"))["high"])

    assert 120 <= high.getpixel((10, 10))[0] <= 136
