"""Authentication that follows ``API_AUTH`` at request time.

With ``API_AUTH=none`` the API identifies nobody: in particular a browser that
is logged in to the admin is not treated as a session user, so the API never
asks the previous web client (which sends no CSRF token) for one.
With ``API_AUTH=token`` a request names its user with ``Authorization: Token
<key>`` (see ``manage.py create_api_token``) or with the admin's session
cookie, in which case Django's CSRF check applies to writes.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.authentication import SessionScheme
from rest_framework import authentication
from rest_framework.request import Request

TOKEN = "token"


def token_mode() -> bool:
    return settings.API_AUTH == TOKEN


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request: Request):
        return super().authenticate(request) if token_mode() else None


class SessionAuthentication(authentication.SessionAuthentication):
    def authenticate(self, request: Request):
        return super().authenticate(request) if token_mode() else None


class ModeSessionScheme(SessionScheme):
    """Describes the session cookie in /api/schema/ (drf-spectacular matches by class)."""

    target_class = "config.authentication.SessionAuthentication"
