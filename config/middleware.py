"""Middleware of the hardening layer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from config.api import error_body


class RejectNulMiddleware:
    """Answer 400 when the URL path or a query parameter holds a NUL character.

    No name, id or filter of this API contains one, PostgreSQL refuses them
    in text (a 500 otherwise) and file APIs truncate paths at them, so they are
    stopped before any view sees them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            return JsonResponse(
                error_body("The URL contains a NUL character.", "invalid_input"), status=400
            )
        return self.get_response(request)
