"""System checks that warn about an open API reachable from other machines."""

from __future__ import annotations

from django.conf import settings
from django.core import checks

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}


@checks.register(checks.Tags.security, deploy=False)
def open_api_beyond_loopback(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.API_AUTH != "none":
        return []
    exposed = [host for host in settings.ALLOWED_HOSTS if host.lower() not in LOOPBACK_HOSTS]
    if not exposed:
        return []
    return [
        checks.Warning(
            f"API_AUTH is none but ALLOWED_HOSTS also accepts {', '.join(exposed)}: "
            "anyone who can reach the server can change the catalog.",
            hint="Set API_AUTH=token (docs/SECURITY.md), or put an authenticating "
            "reverse proxy in front and silence this with "
            "SILENCED_SYSTEM_CHECKS=config.W001.",
            id="config.W001",
        )
    ]
