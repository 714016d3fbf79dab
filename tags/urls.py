from django.urls import path

from tags.views import TagListView, TagsAddView

urlpatterns = [
    path("tags", TagListView.as_view(), name="tag-list"),
    path("tags_add", TagsAddView.as_view(), name="tags-add"),
]
