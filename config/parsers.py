"""Request parsers: DRF's, with hostile bodies answered as 400 instead of 500."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json raises RecursionError (not ValueError, which DRF catches) for
            # deeply nested arrays such as "[[[[...": a 200 kB body is enough.
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
