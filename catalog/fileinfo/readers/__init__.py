"""One reader per file format: header bytes in, plain data out; never tensor data.

Each reader raises ``HeaderError`` (with a sentence a user can act on) for a
header it cannot read; the caller turns that into ``header_error``.
"""


class HeaderError(ValueError):
    """The file's header cannot be read; the message says why."""


try:  # orjson parses a 100 KB LoRA header several times faster than json
    import orjson

    JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, RecursionError)

    def json_loads(data: bytes | str):
        """Parse JSON (orjson when installed, else the standard library)."""
        return orjson.loads(data)

except ImportError:  # pragma: no cover - orjson is in requirements.txt
    import json

    JSON_ERRORS = (ValueError, RecursionError)

    def json_loads(data: bytes | str):
        """Parse JSON (orjson when installed, else the standard library)."""
        return json.loads(data)
