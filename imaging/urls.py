from django.urls import path, re_path

from imaging.views import (
    ImageCountView,
    ImageDeleteView,
    ImageFileView,
    ImageOriginalView,
    ImageUploadView,
    SampleImagesView,
)

# /api/images/pending/... belongs to migration_app, whose urls come first; the
# name route below matches no path with a slash, so it never shadows them.
urlpatterns = [
    path("images/get_img_num", ImageCountView.as_view(), name="image-count"),
    path("images/get_img_count", ImageCountView.as_view(), name="image-count-alias"),
    path("images/delete", ImageDeleteView.as_view(), name="image-delete"),
    path("images/upload", ImageUploadView.as_view(), name="image-upload"),
    path("images/get_sample_imgs", SampleImagesView.as_view(), name="sample-images"),
    re_path(
        r"^images/original/(?P<name>[^/]+)$", ImageOriginalView.as_view(), name="image-original"
    ),
    # Any single segment reaches the view, which answers 400 for a bad name.
    re_path(r"^images/(?P<name>[^/]+)$", ImageFileView.as_view(), name="image-file"),
]
