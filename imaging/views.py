"""Routes of sample images (SPEC.md, Images). Pending images live in migration_app."""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import ErrorSerializer, InvalidInput, StatusSerializer, TooLarge, validated
from imaging.responses import original_response, parse_quality, rendition_response
from imaging.selectors import (
    catalog_model_get,
    sample_image_count,
    sample_image_get,
    sample_image_seqs,
)
from imaging.serializers import (
    MAX_SEQ,
    CountSerializer,
    ImageAddressSerializer,
    ImageUploadSerializer,
    SampleImagesRequestSerializer,
    SampleImagesResponseSerializer,
    Sha256QuerySerializer,
    UploadResponseSerializer,
)
from imaging.services import sample_image_add, sample_image_delete

# <sha256>, <sha256>_<seq>, each optionally followed by .webp; nothing else
# (no dots, slashes or wildcards) ever reaches the database or the storage.
IMAGE_NAME_RE = re.compile(r"(?P<sha256>[0-9a-fA-F]{64})(?:_(?P<seq>[0-9]{1,9}))?(?:\.webp)?")
# The same for originals, whose extension (any short one: it is only for the
# browser's "Save as") follows the stored format, not the name asked for.
ORIGINAL_NAME_RE = re.compile(
    r"(?P<sha256>[0-9a-fA-F]{64})(?:_(?P<seq>[0-9]{1,9}))?(?:\.[A-Za-z0-9]{1,10})?"
)
# Multipart framing around the file: a body this much over the file limit is
# refused before it is read.
MULTIPART_ALLOWANCE = 1024 * 1024

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="Malformed input."),
    404: OpenApiResponse(ErrorSerializer, description="No such model or image."),
}
QUALITY_PARAMETER = OpenApiParameter(
    "quality", str, enum=["high", "medium", "low"], description="Rendition tier; default high."
)


def image_address(
    name: str, query_seq: str | None, *, pattern: re.Pattern[str] = IMAGE_NAME_RE
) -> tuple[str, int]:
    """(sha256, seq) from a path name and the ``seq`` query value.

    Raises InvalidInput (400) for anything that is not a valid image name.
    """
    match = pattern.fullmatch(name)
    if match is None:
        suffix = ".webp" if pattern is IMAGE_NAME_RE else "an extension such as .png"
        raise InvalidInput(
            f"An image name is <sha256>_<seq> or <sha256>, optionally followed by {suffix}.",
            code="invalid_image_name",
        )
    seq = match["seq"]
    if seq is None:
        seq = query_seq or "0"
        if not (seq.isascii() and seq.isdigit() and int(seq) <= MAX_SEQ):
            raise InvalidInput(
                "seq must be a whole number of 0 or more.",
                code="invalid_seq",
                fields={"seq": ["Must be a whole number of 0 or more."]},
            )
    return match["sha256"].lower(), int(seq)


class ImageFileView(APIView):
    @extend_schema(
        parameters=[
            QUALITY_PARAMETER,
            OpenApiParameter("seq", OpenApiTypes.INT, description="For a bare sha256 name."),
        ],
        responses={
            (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, description="WebP"),
            304: OpenApiResponse(description="The client's copy (If-None-Match) is current."),
            **ERRORS,
        },
        summary="A WebP rendition of a sample image",
        operation_id="images_file",
    )
    def get(self, request: Request, name: str) -> HttpResponse:
        sha256, seq = image_address(name, request.query_params.get("seq"))
        quality = parse_quality(request.query_params.get("quality"))
        image = sample_image_get(sha256=sha256, seq=seq)
        return rendition_response(request, image=image, quality=quality)

    def perform_content_negotiation(self, request, force=False):
        # <img> requests may accept only image types; errors still go out as JSON.
        return super().perform_content_negotiation(request, force=True)


class ImageOriginalView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("seq", OpenApiTypes.INT, description="For a bare sha256 name."),
        ],
        responses={
            (200, "image/*"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The original as uploaded, in its own format."
            ),
            304: OpenApiResponse(description="The client's copy (If-None-Match) is current."),
            **ERRORS,
        },
        summary="The uploaded original of a sample image",
        operation_id="images_original",
    )
    def get(self, request: Request, name: str) -> HttpResponse:
        sha256, seq = image_address(name, request.query_params.get("seq"), pattern=ORIGINAL_NAME_RE)
        image = sample_image_get(sha256=sha256, seq=seq)
        return original_response(request, image=image, download_name=f"{sha256}_{seq}")

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)


class ImageCountView(APIView):
    @extend_schema(
        parameters=[Sha256QuerySerializer],
        responses={200: CountSerializer, 400: ERRORS[400]},
        summary="Number of sample images of a model (alias: get_img_count)",
    )
    def get(self, request: Request) -> Response:
        sha256 = validated(Sha256QuerySerializer, request.query_params)["sha256"]
        return Response({"count": sample_image_count(sha256=sha256)})


class ImageDeleteView(APIView):
    requires_staff = True

    @extend_schema(
        parameters=[ImageAddressSerializer],
        responses={200: StatusSerializer, **ERRORS},
        summary="Delete a sample image; later images move down one seq",
    )
    def delete(self, request: Request) -> Response:
        address = validated(ImageAddressSerializer, request.query_params)
        sample_image_delete(sha256=address["sha256"], seq=address["seq"])
        return Response({"status": "success"})


class ImageUploadView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": ImageUploadSerializer},
        responses={
            201: UploadResponseSerializer,
            **ERRORS,
            413: OpenApiResponse(ErrorSerializer, description="Over MAX_UPLOAD_MB."),
            415: OpenApiResponse(ErrorSerializer, description="Not a readable picture."),
        },
        summary="Add a sample image to a model (the next seq)",
    )
    def post(self, request: Request) -> Response:
        limit = settings.MAX_UPLOAD_MB * 1024 * 1024
        # Refuse an oversized body before reading it into temporary files.
        if _content_length(request) > limit + MULTIPART_ALLOWANCE:
            raise _too_large()
        data = validated(ImageUploadSerializer, request.data)
        upload = data["image"]
        if upload.size > limit:
            raise _too_large()
        model = catalog_model_get(sha256=data["sha256"])
        image = sample_image_add(model=model, content=upload.read(), file_name=upload.name or "")
        return Response({"status": "success", "base_name": image.base_name}, status=201)


def _content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large() -> TooLarge:
    return TooLarge(
        f"The picture is larger than the {settings.MAX_UPLOAD_MB} MB accepted (MAX_UPLOAD_MB).",
        code="upload_too_large",
    )


class SampleImagesView(APIView):
    @extend_schema(
        request=SampleImagesRequestSerializer,
        responses={200: SampleImagesResponseSerializer, 400: ERRORS[400]},
        summary="URLs of a model's sample images in seq order",
    )
    def post(self, request: Request) -> Response:
        data = validated(SampleImagesRequestSerializer, request.data)
        quality = parse_quality(data.get("quality"))
        sha256 = data["sha256"]
        seqs = sample_image_seqs(sha256=sha256)
        images = [f"/api/images/{sha256}_{seq}.webp?quality={quality}" for seq in seqs]
        return Response({"images": images, "quality": quality, "count": len(images)})
