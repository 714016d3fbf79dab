from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CatalogConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "catalog"

    def ready(self) -> None:
        from catalog import jobs  # noqa: F401 - registers the refresh_file_info job kind

        # A SQLite table rebuilt by a later migration loses the search triggers.
        post_migrate.connect(_ensure_search_index, sender=self, dispatch_uid="catalog:search")


def _ensure_search_index(sender, using: str, verbosity: int = 1, **kwargs) -> None:
    from django.db import connections

    from catalog.models import CatalogModel
    from catalog.search import ensure_search_index

    if ensure_search_index(CatalogModel, connections[using]) and verbosity >= 1:
        print("  Rebuilt the catalog search index (its triggers were missing or stale).")
