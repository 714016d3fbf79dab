from django.urls import path, re_path

from migration_app.sidecar_views import SidecarImportView
from migration_app.views import (
    LegacyImportView,
    PendingImageView,
    PendingModelDetailView,
    PendingModelListView,
    PromoteOneView,
    PromoteView,
    ScanView,
)

urlpatterns = [
    path("migration/pending_models", PendingModelListView.as_view(), name="pending-list"),
    path("migration/pending_model", PendingModelDetailView.as_view(), name="pending-detail"),
    path("migration/migrate_legacy_db", LegacyImportView.as_view(), name="legacy-import"),
    path("migration/import_models", PromoteView.as_view(), name="pending-promote"),
    path("migration/import_a_model", PromoteOneView.as_view(), name="pending-promote-one"),
    path("library/import_sidecars", SidecarImportView.as_view(), name="import-sidecars"),
    # Before catalog's models/{sha256}, which would answer 400 for "scan".
    path("models/scan", ScanView.as_view(), name="model-scan"),
    # Any one segment reaches the view, which validates the name itself.
    re_path(r"^images/pending/(?P<name>[^/]+)$", PendingImageView.as_view(), name="pending-image"),
]
