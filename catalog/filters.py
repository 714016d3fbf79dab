"""Query-string filters of GET /api/models (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet

from catalog.models import CatalogModel

ORDERING_FIELDS = ("name", "type", "path", "size_bytes", "created_at", "sha256", "images_count")


class TagIdsFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """A comma-separated list of tag ids: ``tags=1,2``."""


class CatalogModelFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_text", max_length=1000)
    tags = TagIdsFilter(method="filter_has_all_tags")
    exclude_tags = TagIdsFilter(method="filter_has_no_tag")
    ordering = django_filters.OrderingFilter(
        fields=[(field, field) for field in ORDERING_FIELDS]
    )

    class Meta:
        model = CatalogModel
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(path__icontains=value))

    def filter_has_all_tags(self, queryset: QuerySet, name: str, value: list) -> QuerySet:
        for tag_id in {int(tag_id) for tag_id in value}:
            queryset = queryset.filter(Exists(_tag_links(tag_ids=[tag_id])))
        return queryset

    def filter_has_no_tag(self, queryset: QuerySet, name: str, value: list) -> QuerySet:
        return queryset.exclude(Exists(_tag_links(tag_ids=[int(tag_id) for tag_id in value])))


def _tag_links(*, tag_ids: list[int]) -> QuerySet:
    through = CatalogModel.tags.through
    return through.objects.filter(catalogmodel_id=OuterRef("sha256"), tag_id__in=tag_ids)
