"""No tables of its own: the rows of library health are catalog.ModelLocation."""

from __future__ import annotations

from catalog.models import CatalogModel


class LibraryHealth(CatalogModel):
    """A proxy that gives the admin its "Library health" page (stats, duplicates, verify)."""

    class Meta:
        proxy = True
        verbose_name = "library health"
        verbose_name_plural = "library health"
