from django.urls import path

from library.views import DuplicatesView, StatsView, VerifyView

urlpatterns = [
    path("library/verify", VerifyView.as_view(), name="library-verify"),
    path("library/duplicates", DuplicatesView.as_view(), name="library-duplicates"),
    path("library/stats", StatsView.as_view(), name="library-stats"),
]
