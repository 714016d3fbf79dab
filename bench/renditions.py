"""Rendering the three WebP tiers: the service against two pipelines of the same run.

    .venv/bin/python bench/renditions.py [--quick] [--repeat N]

Sources are made by the script: a 1024x1536 PNG, a 2048x3072 PNG, a
4000x6000 JPEG and a 2048x3072 RGBA PNG with soft transparency, all
photo-like (smooth shapes, grain). Timed, best of N, from encoded bytes to the
three WebP files in memory:

- service:   ``imaging.renditions.render_renditions`` as the API runs it;
- reference: written here: decode once, cap, cascade LANCZOS resize, WebP
  method 4 with libwebp's default alpha_quality 100;
- previous:  the previous system: each tier resized from the full original
  with LANCZOS, WebP method 6 (alpha_quality 100).

Times are CPU times (see ``best_cpu_of``): the benchmark machine is shared.

Targets: service/reference <= 1.2 for every source; service/previous <= 0.6
for the photos and <= 0.15 for the RGBA source. A last table compares WebP
methods and alpha qualities for the service's settings (docs/images.md).
"""

from __future__ import annotations

import io
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFilter, ImageOps  # noqa: E402

from bench.common import Row, emit, parse_args  # noqa: E402

PHOTO_TARGET = 0.6
ALPHA_TARGET = 0.15
REFERENCE_TARGET = 1.2


@dataclass
class Source:
    label: str
    data: bytes
    has_alpha: bool


@dataclass
class Timing:
    seconds: float
    sizes: dict[str, int]


def _octaves(size: tuple[int, int], octaves: tuple[tuple[int, float], ...]) -> Image.Image:
    """Noise summed over scales, coarse ones strongest, as in natural images."""
    layer = Image.new("L", size, 128)
    for octave, weight in octaves:
        small = (max(2, size[0] // octave), max(2, size[1] // octave))
        noise = Image.effect_noise(small, 64).resize(size, Image.Resampling.BICUBIC)
        layer = Image.blend(layer, noise, weight)
    return ImageOps.autocontrast(layer, cutoff=1)


def _photo(width: int, height: int, seed: int) -> Image.Image:
    """Photo-like: luminance with detail at every scale, smooth colour, objects
    with hard edges; compresses to WebP about like a photograph."""
    rng = random.Random(seed)
    size = (width, height)
    luma = _octaves(size, ((256, 0.8), (64, 0.5), (16, 0.3), (4, 0.15), (1, 0.06)))
    blue = _octaves(size, ((512, 0.9), (128, 0.4)))
    red = _octaves(size, ((384, 0.9), (96, 0.4)))
    image = Image.merge("YCbCr", (luma, blue, red)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(width // 40, width // 8)
        color = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=color)
    grain = Image.effect_noise(size, 24).convert("RGB")
    return Image.blend(image, grain, 0.06)


def _cutout_alpha(width: int, height: int) -> Image.Image:
    """An opaque subject with soft edges on a transparent background."""
    alpha = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(alpha)
    draw.ellipse((width // 8, height // 10, width * 7 // 8, height * 9 // 10), fill=255)
    draw.rectangle((width // 3, height // 20, width * 2 // 3, height // 4), fill=200)
    return alpha.filter(ImageFilter.GaussianBlur(width // 100))


def _encoded(image: Image.Image, image_format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def make_sources(quick: bool) -> list[Source]:
    scale = 2 if quick else 1
    photo = _photo(2048 // scale, 3072 // scale, seed=1)
    rgba = photo.convert("RGBA")
    rgba.putalpha(_cutout_alpha(*photo.size))
    jpeg = _photo(4000 // scale, 6000 // scale, seed=2)
    return [
        Source("1024x1536 PNG", _encoded(photo.resize((1024, 1536)), "PNG"), False),
        Source(f"{photo.width}x{photo.height} PNG", _encoded(photo, "PNG"), False),
        Source(f"{jpeg.width}x{jpeg.height} JPEG", _encoded(jpeg, "JPEG", quality=90), False),
        Source(f"{rgba.width}x{rgba.height} RGBA PNG", _encoded(rgba, "PNG"), True),
    ]


def _decode(data: bytes) -> Image.Image:
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    return image.convert("RGBA" if "A" in image.getbands() else "RGB")


def _webp(image: Image.Image, quality: int, method: int) -> bytes:
    return _encoded(image, "WEBP", quality=quality, method=method)


def reference_pipeline(data: bytes) -> dict[str, bytes]:
    from imaging.renditions import TIERS, tier_sizes

    image = _decode(data)
    sizes = tier_sizes(*image.size)
    out = {}
    for tier in TIERS:
        image = image.resize(sizes[tier.quality_name], Image.Resampling.LANCZOS)
        out[tier.quality_name] = _webp(image, tier.webp_quality, method=4)
    return out


def previous_pipeline(data: bytes) -> dict[str, bytes]:
    from imaging.renditions import TIERS, tier_sizes

    original = _decode(data)
    sizes = tier_sizes(*original.size)
    return {
        tier.quality_name: _webp(
            original.resize(sizes[tier.quality_name], Image.Resampling.LANCZOS),
            tier.webp_quality,
            method=6,
        )
        for tier in TIERS
    }


def service_pipeline(data: bytes) -> dict[str, bytes]:
    from imaging.renditions import render_renditions

    return render_renditions(data)


def best_cpu_of(repeat: int, *actions: Callable[[], object]) -> list[float]:
    """The least CPU time of each action over ``repeat`` interleaved rounds.

    Every pipeline here runs on one thread (Pillow and libwebp start none), so
    on an idle machine CPU time equals wall time; on a shared one it leaves out
    the time spent waiting for a core, which other processes make random.
    """
    best = [float("inf")] * len(actions)
    for _ in range(repeat):
        for index, action in enumerate(actions):
            start = time.process_time()
            action()
            best[index] = min(best[index], time.process_time() - start)
    return best


def time_pipelines(
    source: Source, pipelines: dict[str, Callable[[bytes], dict[str, bytes]]], repeat: int
) -> dict[str, Timing]:
    outputs: dict[str, dict[str, bytes]] = {}

    def runner(name: str) -> Callable[[], None]:
        def run() -> None:
            outputs[name] = pipelines[name](source.data)

        return run

    seconds = best_cpu_of(repeat, *(runner(name) for name in pipelines))
    return {
        name: Timing(spent, {tier: len(data) for tier, data in outputs[name].items()})
        for name, spent in zip(pipelines, seconds, strict=True)
    }


def _sizes(timing: Timing) -> str:
    return " / ".join(f"{size / 1024:,.0f}" for size in timing.sizes.values()) + " KiB"


def compare(sources: list[Source], repeat: int) -> None:
    print(f"CPU ms per image and KiB per tier (high / medium / low), best of {repeat}+")
    for source in sources:
        # The two fast pipelines get twice the rounds: their noise weighs more.
        timings = time_pipelines(
            source, {"service": service_pipeline, "reference": reference_pipeline}, repeat * 2
        )
        timings |= time_pipelines(source, {"previous": previous_pipeline}, repeat)
        service, reference, previous = (
            timings[name] for name in ("service", "reference", "previous")
        )
        for name, timing in timings.items():
            print(f"  {source.label:22} {name:9} {timing.seconds * 1000:8.0f} ms  {_sizes(timing)}")
        previous_target = ALPHA_TARGET if source.has_alpha else PHOTO_TARGET
        print(
            f"  {source.label:22} service/reference {service.seconds / reference.seconds:.2f} "
            f"(<= {REFERENCE_TARGET}), service/previous {service.seconds / previous.seconds:.2f} "
            f"(<= {previous_target})"
        )
        emit(
            Row(
                benchmark=f"renditions {source.label}, service vs reference",
                measured=f"{service.seconds * 1000:.0f} ms ({_sizes(service)})",
                limit=f"reference {reference.seconds * 1000:.0f} ms ({_sizes(reference)})",
                ratio=service.seconds / reference.seconds,
                op="<=",
                target=REFERENCE_TARGET,
            )
        )
        emit(
            Row(
                benchmark=f"renditions {source.label}, service vs previous system",
                measured=f"{service.seconds * 1000:.0f} ms",
                limit=f"previous {previous.seconds * 1000:.0f} ms ({_sizes(previous)})",
                ratio=service.seconds / previous.seconds,
                op="<=",
                target=previous_target,
            )
        )


def settings_table(sources: list[Source], repeat: int) -> None:
    """The service with other WebP methods / alpha qualities, to justify its choice."""
    from imaging import renditions

    chosen = (renditions.WEBP_METHOD, renditions.ALPHA_QUALITY)
    print("\nservice with other encoder settings (method, alpha_quality)")
    try:
        for source in sources:
            # alpha_quality only matters for pictures with transparency.
            variants = [(4, 100), (4, 99), (4, 90), (6, 99)]
            if not source.has_alpha:
                variants = [(4, chosen[1]), (6, chosen[1])]
            for method, alpha_quality in variants:
                renditions.WEBP_METHOD, renditions.ALPHA_QUALITY = method, alpha_quality
                timing = time_pipelines(source, {"service": service_pipeline}, repeat)["service"]
                mark = " (chosen)" if (method, alpha_quality) == chosen else ""
                print(
                    f"  {source.label:22} method {method} alpha {alpha_quality:3} "
                    f"{timing.seconds * 1000:8.0f} ms  {_sizes(timing)}"
                    f"  total {sum(timing.sizes.values()) / 1024:,.0f} KiB{mark}"
                )
    finally:
        renditions.WEBP_METHOD, renditions.ALPHA_QUALITY = chosen


def main() -> None:
    args = parse_args(__doc__.split("\n\n")[0])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()  # imaging.renditions raises the API's error classes
    sources = make_sources(args.quick)
    compare(sources, args.repeat)
    if not args.quick:
        settings_table(sources, args.repeat)


if __name__ == "__main__":
    main()
