"""ORM queries compiled once and run many times with another value.

Compiling a queryset into SQL costs about ten times more than running the
statement on SQLite for a one-row lookup (measured in bench/promotion.py):
per-item work that runs the same lookup for thousands of items compiles it
once per process and database, with the ORM, and runs the SQL it produced.
The SQL stays the ORM's own (the same on every backend it supports).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet

# Values no real lookup uses: the mark's place among the compiled parameters is
# the place of the caller's value.
TEXT_MARK = "\x00prepared-query-mark\x00"
INTEGER_MARK = -9_081_726_354_453_627_180


class PreparedQuery:
    """``build(value)`` -> a queryset filtering on ``value`` once; compiled lazily.

    Compiled inside the caller's transaction the first time (a
    ``select_for_update`` compiles only there), then reused. ``mark``: a value
    of the lookup's type that no caller passes.
    """

    def __init__(self, build: Callable[[Any], QuerySet], *, mark: Any = TEXT_MARK):
        self.build = build
        self.mark = mark
        self.compiled: dict[tuple[str, str], tuple[QuerySet, str, tuple, int]] = {}

    def instances(self, value: Any, using: str = "default") -> list[Model]:
        """The model instances the query finds for ``value`` (annotations as attributes)."""
        queryset, sql, params = self._sql(value, using)
        return list(queryset.model.objects.db_manager(using).raw(sql, params))

    def first(self, value: Any, using: str = "default") -> Model | None:
        found = self.instances(value, using)
        return found[0] if found else None

    def row(self, value: Any, using: str = "default") -> tuple | None:
        """The first row of the query's columns for ``value``, or None."""
        _, sql, params = self._sql(value, using)
        with connections[using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()

    def _sql(self, value: Any, using: str) -> tuple[QuerySet, str, list]:
        key = (using, connections[using].vendor)
        if key not in self.compiled:
            queryset = self.build(self.mark)
            sql, params = queryset.query.get_compiler(using).as_sql()
            places = [n for n, param in enumerate(params) if param == self.mark]
            if len(places) != 1:
                raise ValueError("A prepared query must use its value exactly once.")
            self.compiled[key] = (queryset, sql, tuple(params), places[0])
        queryset, sql, params, place = self.compiled[key]
        values = list(params)
        values[place] = value
        return queryset, sql, values
