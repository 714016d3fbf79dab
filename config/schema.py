"""OpenAPI post-processing: every operation documents the API's error body.

Each view declares its success responses; the errors it can answer with (400,
401, 403, 404, 405, 409, 413, 415, 503) all share one body, ``{"error", "code"
[, "fields"]}``, so they are documented once as the ``default`` response of
every operation instead of in each view.
"""

from __future__ import annotations

from typing import Any

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

HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the Error component and defaults."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("default", ERROR_RESPONSE)
    return result
