"""The API's error vocabulary and the one place that turns errors into JSON.

Services raise ``ServiceError`` subclasses; DRF and Django raise their own.
Every one of them leaves the API as ``{"error": "...", "code": "..."}`` (plus
``"fields"`` for validation errors) with the status code SPEC.md names.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from django.http.request import split_domain_port
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.response import Response

logger = logging.getLogger(__name__)

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class ServiceError(Exception):
    """A failure a caller can act on; the API maps ``status`` and ``code``."""

    status = 400
    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields


class InvalidInput(ServiceError):
    status = 400
    code = "invalid_input"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class TooLarge(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedMedia(ServiceError):
    status = 415
    code = "unsupported_media_type"


class NotConfigured(ServiceError):
    status = 503
    code = "not_configured"


def error_body(message: str, code: str, fields: dict | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": message, "code": code}
    if fields:
        body["fields"] = fields
    return body


def normalize_sha256(value: object, field: str = "sha256") -> str:
    """Lower-case a SHA-256 given by a client, or raise InvalidInput."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not SHA256_RE.match(text):
        raise InvalidInput(
            f"{field} must be 64 hexadecimal characters.",
            code="invalid_sha256",
            fields={field: ["Must be 64 hexadecimal characters."]},
        )
    return text


class Sha256Field(serializers.CharField):
    """A serializer field that accepts any case and returns lowercase hex."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("min_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data).lower()
        if not SHA256_RE.match(value):
            raise serializers.ValidationError("Must be 64 hexadecimal characters.")
        return value


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict:
    """Run a serializer over request input and return its validated data."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def page_bounds(params: Any) -> tuple[int | None, int | None]:
    """``limit`` and ``offset`` from a query string: whole numbers >= 0, or None when absent.

    Either one given means the caller wants a page, and the answer carries
    ``"total"``. A malformed value raises InvalidInput naming the parameter.
    """
    return _non_negative_int(params, "limit"), _non_negative_int(params, "offset")


def page_slice(queryset: Any, limit: int | None, offset: int | None) -> tuple[Any, int | None]:
    """The page of ``queryset`` (or of a list) and the total before slicing, or both unsliced."""
    if limit is None and offset is None:
        return queryset, None
    total = len(queryset) if isinstance(queryset, list) else queryset.count()
    start = offset or 0
    return queryset[start : None if limit is None else start + limit], total


def _non_negative_int(params: Any, key: str) -> int | None:
    raw = params.get(key)
    if raw in (None, ""):
        return None
    # Not str.isdigit(): it accepts digits such as "²" that int() refuses.
    if not re.fullmatch(r"[0-9]{1,9}", str(raw)):
        raise InvalidInput(
            f"{key} must be a whole number of 0 or more.",
            code="invalid_filter",
            fields={key: ["Must be a whole number of 0 or more."]},
        )
    return int(raw)


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields)


_DRF_CODES = {
    drf.ParseError: ("malformed_request", "The request body could not be parsed: {detail}"),
    drf.UnsupportedMediaType: ("unsupported_media_type", "{detail}"),
    drf.MethodNotAllowed: ("method_not_allowed", "{detail}"),
    drf.NotAcceptable: ("not_acceptable", "{detail}"),
    drf.NotAuthenticated: ("not_authenticated", "{detail}"),
    drf.AuthenticationFailed: ("authentication_failed", "{detail}"),
    drf.PermissionDenied: ("permission_denied", "{detail}"),
    drf.NotFound: ("not_found", "{detail}"),
    drf.Throttled: ("throttled", "{detail}"),
}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every error becomes {"error", "code"[, "fields"]}."""
    headers: dict[str, str] = {}
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.message, exc.code, exc.fields), status=exc.status)
    if isinstance(exc, drf.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields if isinstance(fields, list) else [fields]}
        message = f"Invalid input: {_first_message(fields)}"
        return Response(error_body(message, "invalid_input", fields), status=400)
    if isinstance(exc, Http404):
        return Response(error_body("Not found.", "not_found"), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("Permission denied.", "permission_denied"), status=403)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("The request body is too large.", "too_large"), status=413)
    if isinstance(exc, DisallowedHost):
        return Response(host_refusal_body(context["request"]), 400)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("The request was refused as unsafe.", "bad_request"), 400)
    if isinstance(exc, drf.APIException):
        code, template = next(
            (value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)),
            (str(exc.default_code), "{detail}"),
        )
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
        message = template.format(detail=str(exc.detail))
        return Response(error_body(message, code), status=exc.status_code, headers=headers)
    return None


# Django-level handlers (config/urls.py): for requests that never reach a DRF
# view, such as unknown routes or a Host header outside ALLOWED_HOSTS.
def json_bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    if isinstance(exception, DisallowedHost):
        return JsonResponse(host_refusal_body(request), status=400)
    return JsonResponse(error_body("Bad request.", "bad_request"), status=400)


def host_refusal_body(request: HttpRequest) -> dict[str, Any]:
    """Why a request's Host header was refused, and which variable admits it."""
    raw = request.META.get("HTTP_X_FORWARDED_HOST" if settings.USE_X_FORWARDED_HOST else "", "")
    raw = raw or request.META.get("HTTP_HOST", "") or request.META.get("SERVER_NAME", "")
    domain, _port = split_domain_port(raw)
    if not domain:
        return error_body(
            f"The Host header {raw[:100]!r} is not a valid host name.", "host_not_allowed"
        )
    return error_body(
        f"Host {domain[:100]!r} is not allowed; set ALLOWED_HOSTS to include it "
        "(a comma-separated list of host names).",
        "host_not_allowed",
    )


def json_permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> JsonResponse:
    return JsonResponse(error_body("Permission denied.", "permission_denied"), status=403)


def json_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse(
        error_body(f"No route or resource at {request.path}.", "not_found"), status=404
    )


def json_server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body("Internal error; the server log has the details.", "server_error"), status=500
    )


class StatusSerializer(serializers.Serializer):
    """``{"status": "success"}``: the answer of a route that only acts, for the API schema."""

    status = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """The shape of every error response, for the API schema."""

    error = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(required=False)
