"""Serving renditions over HTTP, shared by sample and pending image routes."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from config.api import InvalidInput, NotFound
from imaging.models import Quality, RenditionedImage
from imaging.renditions import RENDITION_VERSION

DEFAULT_QUALITY = Quality.HIGH.value
# A shifted seq makes the same URL show another picture: caches may keep the
# bytes but must ask again (the ETag makes that a 304).
CACHE_CONTROL = "no-cache"


def parse_quality(value: object) -> str:
    """A quality tier from a query or body value: absent or empty means high.

    Raises InvalidInput (400) for anything but high, medium or low.
    """
    if value is None or value == "":
        return DEFAULT_QUALITY
    if value not in Quality.values:
        raise InvalidInput(
            f"quality must be one of {', '.join(Quality.values)}.",
            code="invalid_quality",
            fields={"quality": [f"Must be one of {', '.join(Quality.values)}."]},
        )
    return str(value)


def rendition_etag(image: RenditionedImage, quality: str) -> str:
    # The uid never changes for a row and renditions are only rewritten from
    # the same original, so uid + tier + encoder version identify the bytes.
    return f'"{image.uid.hex}-{quality}-v{RENDITION_VERSION}"'


def rendition_response(
    request: HttpRequest, *, image: RenditionedImage, quality: str
) -> HttpResponse:
    """The WebP rendition streamed from storage, or 304 when the client has it.

    Raises NotFound (404) when the rendition file is missing (see
    ``manage.py rebuild_renditions``).
    """
    etag = rendition_etag(image, quality)
    client_etags = parse_etags(request.headers.get("If-None-Match", ""))
    if etag in client_etags or "*" in client_etags:
        response: HttpResponse = HttpResponseNotModified()
    else:
        storage = image.original.storage
        name = image.rendition_name(quality)
        try:
            handle = storage.open(name, "rb")
        except FileNotFoundError:
            raise NotFound(
                f"The {quality} rendition of this image is missing; "
                "run manage.py rebuild_renditions.",
                code="rendition_missing",
            ) from None
        response = FileResponse(handle, content_type="image/webp")
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response
