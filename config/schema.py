"""OpenAPI post-processing: every operation documents the API's error body.

Each view declares its success responses; the errors it can answer with (400,
401, 403, 404, 405, 409, 413, 415, 503) all share one body, ``{"error", "code"
[, "fields"]}``, so they are documented once as the ``default`` response of
every operation instead of in each view.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: a sentence a person can act on and a machine code.",
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "string"},
        "fields": {
            "type": "object",
            "description": "Per-field messages of a validation error.",
            "additionalProperties": True,
        },
    },
    "required": ["error", "code"],
}

ERROR_RESPONSE: dict[str, Any] = {
    "description": "Error (4xx; a 5xx is a bug)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}

# limit/offset of a list route that pages on request (config.api.page_bounds).
PAGE_PARAMETERS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description="Page size; adds 'total'."),
    OpenApiParameter("offset", OpenApiTypes.INT, description="Items to skip; adds 'total'."),
]

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the Error component and defaults."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("default", ERROR_RESPONSE)
    return result


def security_per_auth_mode(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: with API_AUTH=none, no security schemes at all.

    Nothing asks for credentials then, so the docs page must not offer an
    "Authorize" button or draw locks on every operation.
    """
    if settings.API_AUTH != "none":
        return result
    result.get("components", {}).pop("securitySchemes", None)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                operation.pop("security", None)
    return result
