"""Serving stored images over HTTP, shared by sample and pending image routes.

Renditions and originals are streamed from the media storage (local folder or
S3 bucket alike) with a strong ETag derived from the row, so a client's copy is
revalidated with one 304 and never needs the storage at all.
"""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from config.api import InvalidInput, NotFound
from imaging.files import stored_file_open
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


def original_etag(image: RenditionedImage) -> str:
    # An original is never rewritten: a new picture is a new row with a new uid.
    return f'"{image.uid.hex}-original"'


# Content type of an original by the extension it was stored under; that
# extension comes from the format Pillow decoded, never from the client.
ORIGINAL_CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "jfif": "image/jpeg",
    "mpo": "image/jpeg",  # multi-picture JPEG: its first picture is a JPEG
    "png": "image/png",
    "apng": "image/apng",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "dib": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "avif": "image/avif",
}


def original_extension(image: RenditionedImage) -> str:
    """The extension the original is stored under (lower case, no dot)."""
    name = image.original.name or ""
    return name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""


def _not_modified(request: HttpRequest, etag: str) -> bool:
    client_etags = parse_etags(request.headers.get("If-None-Match", ""))
    return etag in client_etags or "*" in client_etags


def _stored_response(
    request: HttpRequest,
    *,
    image: RenditionedImage,
    name: str,
    etag: str,
    content_type: str,
    filename: str,
    missing: NotFound,
) -> HttpResponse:
    if _not_modified(request, etag):
        response: HttpResponse = HttpResponseNotModified()
    else:
        try:
            stored = stored_file_open(image.original.storage, name)
        except FileNotFoundError:
            raise missing from None
        response = FileResponse(stored.stream, content_type=content_type, filename=filename)
        response["Content-Length"] = str(stored.size)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    return response


def rendition_response(
    request: HttpRequest, *, image: RenditionedImage, quality: str
) -> HttpResponse:
    """The WebP rendition streamed from storage, or 304 when the client has it.

    Raises NotFound (404) when the rendition file is missing (see
    ``manage.py rebuild_renditions``).
    """
    name = image.rendition_name(quality)
    return _stored_response(
        request,
        image=image,
        name=name,
        etag=rendition_etag(image, quality),
        content_type="image/webp",
        filename=name.rsplit("/", 1)[-1],
        missing=NotFound(
            f"The {quality} rendition of this image is missing; run manage.py rebuild_renditions.",
            code="rendition_missing",
        ),
    )


def original_response(
    request: HttpRequest, *, image: RenditionedImage, download_name: str
) -> HttpResponse:
    """The uploaded original streamed from storage, or 304 when the client has it.

    ``download_name`` (without extension) is offered as the file name; the
    content type follows the stored format. Raises NotFound (404) when the
    original's file is missing.
    """
    extension = original_extension(image)
    return _stored_response(
        request,
        image=image,
        name=image.original.name,
        etag=original_etag(image),
        content_type=ORIGINAL_CONTENT_TYPES.get(extension, "application/octet-stream"),
        filename=f"{download_name}.{extension}" if extension else download_name,
        missing=NotFound(
            "The original file of this image is missing from the media storage.",
            code="original_missing",
        ),
    )
