from django.urls import path, re_path

from tags.views import TagDetailView, TagMergeView, TagsAddView

urlpatterns = [
    path("tags_add", TagsAddView.as_view(), name="tags-add"),
    path("tags/merge", TagMergeView.as_view(), name="tags-merge"),
    re_path(r"^tags/(?P<tag_id>[^/]+)$", TagDetailView.as_view(), name="tag-detail"),
]
