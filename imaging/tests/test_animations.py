"""Animated GIF, WebP and APNG uploads keep their animation in the high rendition."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageSequence

from imaging import renditions
from imaging.renditions import render_renditions
from imaging.tests.pictures import COLORS, animation, encode, picture


def frames_of(data: bytes) -> list[tuple[tuple[int, ...], int]]:
    """(colour of the centre pixel, duration) of every frame of a picture."""
    image = Image.open(io.BytesIO(data))
    found = []
    for frame in ImageSequence.Iterator(image):
        rgb = frame.convert("RGB")
        found.append((rgb.getpixel((rgb.width // 2, rgb.height // 2)), frame.info["duration"]))
    return found


def close(color: tuple[int, ...], expected: tuple[int, ...]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(color, expected, strict=True))


@pytest.mark.parametrize("image_format", ["GIF", "WEBP", "PNG"])
def test_high_keeps_every_frame_its_duration_and_the_loop(image_format):
    source = animation(image_format, durations=(50, 100, 150))

    high = render_renditions(source)["high"]

    image = Image.open(io.BytesIO(high))
    assert (image.format, image.n_frames, image.size) == ("WEBP", 3, (60, 40))
    assert image.info["loop"] == 0
    frames = frames_of(high)
    assert [duration for _, duration in frames] == [50, 100, 150]
    assert all(close(color, expected) for (color, _), expected in zip(frames, COLORS, strict=False))


def test_medium_and_low_are_the_first_frame_still():
    tiers = render_renditions(animation("GIF", size=(300, 200)))

    for quality, size in (("medium", (198, 132)), ("low", (99, 66))):
        image = Image.open(io.BytesIO(tiers[quality]))
        assert (getattr(image, "n_frames", 1), image.size) == (1, size)
        assert close(image.convert("RGB").getpixel((50, 50)), COLORS[0])


def test_a_gif_without_a_loop_count_plays_once_and_zero_durations_become_100_ms():
    # Pillow writes no loop extension when loop is None: the GIF plays once.
    source = animation("GIF", durations=(0, 0, 0), loop=None)

    high = Image.open(io.BytesIO(render_renditions(source)["high"]))

    assert high.info["loop"] == 1
    assert [duration for _, duration in frames_of(render_renditions(source)["high"])] == [100] * 3


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_transparency_survives_in_every_frame(image_format):
    frames = []
    for color in COLORS[:2]:
        frame = Image.new("RGBA", (40, 30), (*color, 255))
        frame.paste((0, 0, 0, 0), (0, 0, 20, 30))
        frames.append(frame)
    options = {"disposal": 2} if image_format == "GIF" else {}
    source = encode(
        frames[0], image_format, save_all=True, append_images=frames[1:], duration=80, **options
    )

    high = Image.open(io.BytesIO(render_renditions(source)["high"]))

    for frame in ImageSequence.Iterator(high):
        rgba = frame.convert("RGBA")
        assert rgba.getpixel((5, 15))[3] == 0 and rgba.getpixel((35, 15))[3] == 255


def test_a_long_animation_gets_smaller_frames_within_the_pixel_budget(monkeypatch):
    monkeypatch.setattr(renditions, "ANIMATION_PIXELS", 4 * 50 * 50)
    source = animation("GIF", size=(100, 100), colors=COLORS, durations=(40,) * 4)

    high = Image.open(io.BytesIO(render_renditions(source)["high"]))

    assert (high.n_frames, high.size) == (4, (50, 50))


@pytest.mark.parametrize(
    ("limit", "value"), [("MAX_FRAMES", 2), ("ANIMATION_DECODE_PIXELS", 3 * 60 * 40 - 1)]
)
def test_past_the_frame_or_decode_limit_high_is_the_first_frame(monkeypatch, limit, value):
    monkeypatch.setattr(renditions, limit, value)

    high = Image.open(io.BytesIO(render_renditions(animation("GIF"))["high"]))

    assert getattr(high, "n_frames", 1) == 1
    assert close(high.convert("RGB").getpixel((30, 20)), COLORS[0])


def test_a_still_picture_is_not_animated():
    high = Image.open(io.BytesIO(render_renditions(picture(image_format="GIF"))["high"]))

    assert getattr(high, "n_frames", 1) == 1


@pytest.mark.django_db
def test_an_uploaded_gif_is_served_animated_and_its_original_unchanged(api, make_model):
    model = make_model()
    source = animation("GIF")
    upload = {"sha256": model.sha256, "image": io.BytesIO(source)}
    upload["image"].name = "loop.gif"
    assert api.post("/api/images/upload", upload, format="multipart").status_code == 201

    high = api.get(f"/api/images/{model.sha256}_0.webp")
    original = api.get(f"/api/images/original/{model.sha256}_0.gif")

    assert Image.open(io.BytesIO(b"".join(high.streaming_content))).n_frames == 3
    assert b"".join(original.streaming_content) == source
    assert original["Content-Type"] == "image/gif"
