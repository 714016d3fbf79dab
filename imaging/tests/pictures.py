"""Pictures made in memory for the imaging tests."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image


def encode(image: Image.Image, image_format: str = "PNG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def picture(size=(64, 48), mode="RGB", color=(200, 30, 30), image_format="PNG", **options):
    return encode(Image.new(mode, size, color), image_format, **options)


def jpeg_with_exif(size=(60, 40), orientation=1, gps=False) -> bytes:
    """A JPEG whose EXIF says how to turn it, optionally with a GPS position."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "TestCam"
    if gps:
        exif[ExifTags.Base.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (48.0, 51.0, 24.0),
        }
    # Left half red, right half blue: orientation shows in the pixels.
    image = Image.new("RGB", size, (255, 0, 0))
    image.paste((0, 0, 255), (size[0] // 2, 0, size[0], size[1]))
    return encode(image, "JPEG", exif=exif, quality=95)


def transparent_image(size=(40, 30)) -> Image.Image:
    """RGBA, left half fully transparent, right half opaque red."""
    image = Image.new("RGBA", size, (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def transparent(mode: str, size=(40, 30)) -> bytes:
    """A picture of ``mode`` whose left half is fully transparent."""
    if mode == "P":
        image = Image.new("P", size, 1)
        image.putpalette([0, 0, 0, 255, 0, 0])
        image.paste(0, (0, 0, size[0] // 2, size[1]))
        return encode(image, "PNG", transparency=0)
    image = transparent_image(size)
    return encode(image.convert(mode) if mode != "RGBA" else image, "PNG")


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few bytes whose header declares ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]


def animation(
    image_format: str = "GIF",
    size=(60, 40),
    colors=COLORS[:3],
    durations=(50, 100, 150),
    **options,
) -> bytes:
    """An animated picture whose frames are plain ``colors`` for ``durations`` ms."""
    frames = [Image.new("RGB", size, color) for color in colors]
    options.setdefault("loop", 0)
    return encode(
        frames[0],
        image_format,
        save_all=True,
        append_images=frames[1:],
        duration=list(durations),
        **options,
    )
