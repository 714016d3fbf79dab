"""Query-string filters of GET /api/models (django-filter)."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet

from catalog.models import CatalogModel
from catalog.search import SearchTermsError, search_filter, search_terms

ORDERING_FIELDS = (
    "name",
    "type",
    "path",
    "size_bytes",
    "created_at",
    "sha256",
    "images_count",
    "rating",
    "base_model",
)


class TagIdsField(forms.CharField):
    """Comma-separated tag ids (``1,2``); blank parts are skipped, anything else is refused."""

    def to_python(self, value: str | None) -> list[int]:
        parts = [part.strip() for part in (super().to_python(value) or "").split(",")]
        ids = [part for part in parts if part]
        # 18 digits always fit the 64-bit key column, so the database never overflows.
        if not all(re.fullmatch(r"[0-9]{1,18}", part) for part in ids):
            raise forms.ValidationError("Must be tag ids separated by commas, such as 1,2.")
        return [int(part) for part in ids]


class TagIdsFilter(django_filters.Filter):
    """A comma-separated list of tag ids: ``tags=1,2``."""

    field_class = TagIdsField


class StrictBooleanField(forms.Field):
    """``true``/``false`` (also 1/0, yes/no, any case); anything else is refused, not ignored."""

    def to_python(self, value: str | None) -> bool | None:
        word = (value or "").strip().lower()
        if not word:
            return None
        if word in {"true", "1", "yes"}:
            return True
        if word in {"false", "0", "no"}:
            return False
        raise forms.ValidationError("Must be true or false.")


class StrictBooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class SearchField(forms.CharField):
    """``q``: words and "quoted phrases" (catalog/search.py); too many is a 400."""

    def clean(self, value: str | None) -> str:
        value = super().clean(value)
        try:
            search_terms(value or "")
        except SearchTermsError as error:
            raise forms.ValidationError(str(error)) from None
        return value


class SearchFilter(django_filters.CharFilter):
    field_class = SearchField


class CatalogModelFilter(django_filters.FilterSet):
    q = SearchFilter(method="filter_text", max_length=1000)
    tags = TagIdsFilter(method="filter_has_all_tags")
    tags_any = TagIdsFilter(method="filter_has_any_tag")
    exclude_tags = TagIdsFilter(method="filter_has_no_tag")
    favorite = StrictBooleanFilter(field_name="favorite")
    nsfw = StrictBooleanFilter(field_name="nsfw")
    missing = StrictBooleanFilter(field_name="missing")
    min_rating = django_filters.NumberFilter(
        field_name="rating", lookup_expr="gte", min_value=0, max_value=5, decimal_places=0
    )
    # From the file's header (docs/file-intelligence.md): the label any case,
    # the ids as given or in lowercase.
    base_model = django_filters.CharFilter(lookup_expr="iexact", max_length=64)
    architecture = django_filters.CharFilter(method="filter_lowercase", max_length=32)
    kind = django_filters.CharFilter(method="filter_lowercase", max_length=32)
    ordering = django_filters.OrderingFilter(fields=[(field, field) for field in ORDERING_FIELDS])

    class Meta:
        model = CatalogModel
        fields: list[str] = []

    def filter_lowercase(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{name: value.strip().lower()})

    def filter_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return search_filter(queryset, value)

    def filter_has_all_tags(self, queryset: QuerySet, name: str, value: list[int]) -> QuerySet:
        for tag_id in set(value):
            queryset = queryset.filter(Exists(_tag_links(tag_ids=[tag_id])))
        return queryset

    def filter_has_any_tag(self, queryset: QuerySet, name: str, value: list[int]) -> QuerySet:
        return queryset.filter(Exists(_tag_links(tag_ids=value))) if value else queryset

    def filter_has_no_tag(self, queryset: QuerySet, name: str, value: list[int]) -> QuerySet:
        return queryset.exclude(Exists(_tag_links(tag_ids=value)))


def _tag_links(*, tag_ids: list[int]) -> QuerySet:
    through = CatalogModel.tags.through
    return through.objects.filter(catalogmodel_id=OuterRef("sha256"), tag_id__in=tag_ids)
