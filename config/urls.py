from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.api import json_not_found
from config.views import favicon, landing_page

api_patterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # migration_app first: its /api/models/scan must win over /api/models/{sha256}.
    path("", include("migration_app.urls")),
    path("", include("library.urls")),
    path("", include("jobs.urls")),
    path("", include("imaging.urls")),
    path("", include("catalog.urls")),
    path("", include("tags.urls")),
    # csrf_exempt: a POST to an unknown route is a JSON 404, not an HTML CSRF page.
    re_path(r"^.*$", csrf_exempt(json_not_found)),
]

urlpatterns = [
    path("", landing_page, name="landing"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
]

handler400 = "config.api.json_bad_request"
handler403 = "config.api.json_permission_denied"
handler404 = "config.api.json_not_found"
handler500 = "config.api.json_server_error"
