"""One reader per file format: header bytes in, plain data out; never tensor data.

Each reader raises ``HeaderError`` (with a sentence a user can act on) for a
header it cannot read; the caller turns that into ``header_error``.
"""


class HeaderError(ValueError):
    """The file's header cannot be read; the message says why."""
