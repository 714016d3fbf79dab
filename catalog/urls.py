from django.urls import path, re_path

from catalog.curation_views import ModelBulkView, ModelExportView, TagListView
from catalog.file_views import ModelLookupView
from catalog.views import HelloView, ModelDetailView, ModelListView, ModelTypesView

urlpatterns = [
    path("hello", HelloView.as_view(), name="hello"),
    path("models", ModelListView.as_view(), name="model-list"),
    path("models/get_types", ModelTypesView.as_view(), name="model-types"),
    path("models/lookup", ModelLookupView.as_view(), name="model-lookup"),
    path("tags", TagListView.as_view(), name="tag-list"),
    path("models/bulk", ModelBulkView.as_view(), name="models-bulk"),
    path("models/export", ModelExportView.as_view(), name="models-export"),
    # Any segment reaches the view, which answers 400 for a malformed sha256
    # rather than a bare 404.
    re_path(r"^models/(?P<sha256>[^/]+)$", ModelDetailView.as_view(), name="model-detail"),
]
