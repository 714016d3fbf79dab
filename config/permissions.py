"""Who may call the API: the one permission class every API view uses.

- Writes (POST, PUT, PATCH, DELETE) sent by a browser page from another origin
  are refused in every mode unless that origin is configured
  (CORS_ALLOWED_ORIGINS or CSRF_TRUSTED_ORIGINS). CORS alone only hides the
  answer from such a page; a plain HTML form could still post to the API.
- ``API_AUTH=none``: anything else is allowed (the server listens on loopback).
- ``API_AUTH=token``: every call needs an authenticated user, and views with
  ``requires_staff = True`` (scan, legacy import, promotion, image deletion)
  need a staff user. Views with ``allow_anonymous = True`` (the health check)
  stay open.

Refusals leave the API as JSON ``{"error", "code"}`` through config.api.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from config.authentication import token_mode

if TYPE_CHECKING:  # rest_framework.views imports this module through its settings
    from rest_framework.views import APIView


class CrossOriginRefused(exceptions.APIException):
    status_code = 403
    default_code = "cross_origin_refused"
    default_detail = (
        "Writes from a page of another origin are refused; add that origin to "
        "CORS_ALLOWED_ORIGINS if it should be allowed."
    )


class StaffRequired(exceptions.APIException):
    status_code = 403
    default_code = "staff_required"
    default_detail = "This action needs a staff user."


def origin_is_allowed(request: Request) -> bool:
    """True for requests not sent by a foreign browser page.

    Browsers send ``Origin`` on every cross-origin write and cannot forge it;
    scripts and curl send none. The origin's host is compared with the Host the
    request was addressed to (already checked against ALLOWED_HOSTS), so the
    check also holds behind a TLS-terminating proxy.
    """
    origin = request.META.get("HTTP_ORIGIN")
    if origin is None:
        return request.META.get("HTTP_SEC_FETCH_SITE") != "cross-site"
    trusted = {*settings.CORS_ALLOWED_ORIGINS, *settings.CSRF_TRUSTED_ORIGINS}
    if origin in trusted:
        return True
    try:
        host = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(host) and host == request.get_host()


class ApiAccess(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method not in permissions.SAFE_METHODS and not origin_is_allowed(request):
            raise CrossOriginRefused()
        if not token_mode() or getattr(view, "allow_anonymous", False):
            return True
        user = request.user
        if not (user and user.is_authenticated):
            # DRF turns False into a 401 with WWW-Authenticate: Token.
            return False
        if getattr(view, "requires_staff", False) and not user.is_staff:
            raise StaffRequired()
        return True
