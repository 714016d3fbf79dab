"""Tags in the admin: listed with how many catalog models carry them, and merged.

"Merge selected tags into one" shows a page listing the selected tags; the
curator picks the tag to keep (the oldest is preselected), and
tags.services.tags_merge moves every use of the others onto it.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, QuerySet
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
            f"{tag.name} ({tag.model_count} catalog models)"
        )


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
        tags = queryset.order_by("id")
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
        uses = Tag.objects.filter(pk=target.pk).annotate(n=Count("catalog_models")).get().n
        merged = ", ".join(f"“{tag.name}”" for tag in sources)
        self.message_user(
            request,
            f"Merged {removed} tag(s) ({merged}) into “{target.name}”, "
            f"which {uses} catalog model(s) now carry.",
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
