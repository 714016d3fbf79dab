"""Logging filters: refused requests are one line in the log, not a traceback each."""

from __future__ import annotations

import logging


class OneLineRefusals(logging.Filter):
    """Drop the traceback Django attaches to a refused Host header.

    Django logs every request whose Host is not in ALLOWED_HOSTS on the
    ``django.security.DisallowedHost`` logger with its exception, 20 lines per
    request. The message already says which host was refused; the stack only
    shows Django's own request handling, so it is left out.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.security.DisallowedHost":
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
