"""Tags in the admin: listed with how many catalog models carry them, and merged.

"Merge selected tags into one" shows a page listing the selected tags; the
curator picks the tag to keep (the oldest is preselected), and
tags.services.tags_merge moves every use of the others onto it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse

from config.api import InvalidInput
from tags.models import Tag
from tags.services import tag_find, tag_name_clean, tags_merge

MERGE_TEMPLATE = "admin/tags/tag/merge_confirm.html"


class TagAdminForm(forms.ModelForm):
    class Meta:
        model = Tag
        fields = ["name"]

    def clean_name(self) -> str:
        """The same rules as POST /api/tags_add: trimmed, 64 characters, unique in any case."""
        try:
            name = tag_name_clean(self.cleaned_data["name"])
        except InvalidInput as error:
            raise forms.ValidationError(error.message) from None
        if not name:
            raise forms.ValidationError("A tag name cannot be blank.")
        existing = tag_find(name)
        if existing is not None and existing.pk != self.instance.pk:
            raise forms.ValidationError(f"The tag “{existing.name}” already exists.")
        return name


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=Tag.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Keep this tag; the others are merged into it and deleted",
    )

    def __init__(self, *args, tags: QuerySet[Tag], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = tags
        self.fields["target"].label_from_instance = lambda tag: (
            f"{tag.name} ({uses_text(tag.model_count, tag.pending_count)})"
        )


def with_use_counts(tags: QuerySet[Tag]) -> QuerySet[Tag]:
    """Tags annotated with ``model_count`` and ``pending_count``.

    Subqueries rather than two Counts over joins: joining both relations
    multiplies their rows (a tag on 1,000 models and 1,000 pending models
    would count a million).
    """
    return tags.annotate(
        model_count=_link_count(Tag.catalog_models.through),
        pending_count=_link_count(Tag.pending_models.through),
    )


def _link_count(through) -> Subquery:
    links = (
        through.objects.filter(tag_id=OuterRef("pk"))
        .order_by()
        .values("tag_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(links), 0)


def uses_text(catalog: int, pending: int) -> str:
    """'3 catalog models and 1 pending model'."""

    def plural(n: int, noun: str) -> str:
        return f"{n:,} {noun}{'' if n == 1 else 's'}"

    return f"{plural(catalog, 'catalog model')} and {plural(pending, 'pending model')}"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    form = TagAdminForm
    list_display = ["name", "model_count"]
    search_fields = ["name"]
    ordering = ["name"]
    actions = ["merge_tags"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(model_count=Count("catalog_models"))

    @admin.display(description="catalog models", ordering="model_count")
    def model_count(self, tag: Tag) -> int:
        return tag.model_count

    @admin.action(description="Merge selected tags into one")
    def merge_tags(self, request: HttpRequest, queryset: QuerySet[Tag]):
        # Fresh rows: the list's queryset already carries its own model_count.
        tags = with_use_counts(Tag.objects.filter(pk__in=queryset.values("pk")).order_by("id"))
        if len(tags) < 2:
            self.message_user(request, "Select at least two tags to merge.", messages.WARNING)
            return None
        form = MergeForm(
            request.POST if "apply" in request.POST else None,
            tags=tags,
            initial={"target": tags[0]},
        )
        if not form.is_valid():
            return self._merge_confirm(request, tags, form)
        target = form.cleaned_data["target"]
        sources = [tag for tag in tags if tag.pk != target.pk]
        removed = tags_merge(target=target, sources=sources)
        kept = with_use_counts(Tag.objects.filter(pk=target.pk)).get()
        merged = ", ".join(f"“{tag.name}”" for tag in sources)
        self.message_user(
            request,
            f"Merged {removed} tag(s) ({merged}) into “{target.name}”, "
            f"which {uses_text(kept.model_count, kept.pending_count)} now carry.",
            messages.SUCCESS,
        )
        return None

    def _merge_confirm(
        self, request: HttpRequest, tags: QuerySet[Tag], form: MergeForm
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge tags",
            "opts": self.model._meta,
            "tags": tags,
            "form": form,
            "action": "merge_tags",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, MERGE_TEMPLATE, context)
