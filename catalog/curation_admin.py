"""Curation in the catalog admin: favorite, rating and NSFW columns and filters, and
actions on the selected models (or on every model the list's filters match, with
Django's "select all"): add or remove tags, set the type, mark or unmark as
favorite or NSFW, export as CSV.

Every action runs catalog.bulk.models_bulk_edit, the service of
POST /api/models/bulk, so a few statements change thousands of models.
A mixin, so that catalog/admin.py only lists it among the bases.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse

from catalog.bulk import BulkChanges, models_bulk_edit
from catalog.export import FORMATS, export_chunks
from catalog.models import CatalogModel
from config.api import ServiceError
from tags.models import Tag
from tags.services import tag_name_required, tags_resolve_or_create

FORM_TEMPLATE = "admin/catalog/catalogmodel/bulk_form.html"
USER_FIELDS = ["favorite", "rating", "nsfw"]
RATING_CHOICES = [(0, "not rated"), *((n, "★" * n) for n in range(1, 6))]


class TagsForm(forms.Form):
    tags = forms.ModelMultipleChoiceField(queryset=Tag.objects.all(), required=False)
    new_tags = forms.CharField(
        required=False,
        label="New tags",
        help_text="Names separated by commas; created when missing (any case).",
    )

    def __init__(self, *args, admin_site, allow_new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Built here: the autocomplete widget needs the admin site.
        self.fields["tags"] = forms.ModelMultipleChoiceField(
            queryset=Tag.objects.all(),
            required=False,
            widget=AutocompleteSelectMultiple(CatalogModel._meta.get_field("tags"), admin_site),
        )
        if not allow_new:
            del self.fields["new_tags"]

    def clean_new_tags(self) -> list[str]:
        names = [part for part in self.cleaned_data.get("new_tags", "").split(",") if part.strip()]
        try:
            return [tag_name_required(name) for name in names]
        except ServiceError as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        data = super().clean()
        if not data.get("tags") and not data.get("new_tags"):
            raise forms.ValidationError("Choose at least one tag.")
        return data


class TypeForm(forms.Form):
    type = forms.CharField(max_length=64, help_text="A folder name such as loras, checkpoints.")


class CurationAdminMixin:
    """User-field columns, filters and fieldset, and the bulk actions."""

    actions = [
        "add_tags",
        "remove_tags",
        "set_type",
        "mark_favorite",
        "unmark_favorite",
        "mark_nsfw",
        "unmark_nsfw",
        "export_csv",
    ]

    def get_list_display(self, request: HttpRequest):
        return [*super().get_list_display(request), *USER_FIELDS]

    def get_list_filter(self, request: HttpRequest):
        return [*super().get_list_filter(request), *USER_FIELDS]

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "rating":
            # Stars to pick from rather than a number to type.
            return forms.TypedChoiceField(
                choices=RATING_CHOICES, coerce=int, initial=0, label="rating"
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if not any(field in USER_FIELDS for _, options in fieldsets for field in options["fields"]):
            fieldsets.insert(1, ("Curation", {"fields": USER_FIELDS}))
        return fieldsets

    # --- actions ------------------------------------------------------------------

    @admin.action(description="Add tags to the selected models")
    def add_tags(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        return self._tags_action(request, queryset, action="add_tags", adding=True)

    @admin.action(description="Remove tags from the selected models")
    def remove_tags(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        return self._tags_action(request, queryset, action="remove_tags", adding=False)

    @admin.action(description="Set the type of the selected models")
    def set_type(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        form = TypeForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._form_page(request, queryset, form, "set_type", "Set the type", "Set")
        changes = BulkChanges(set_fields={"type": form.cleaned_data["type"].strip()})
        return self._run(request, queryset, changes, f"type set to “{changes.set_fields['type']}”")

    @admin.action(description="Mark the selected models as favorite")
    def mark_favorite(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        return self._run(request, queryset, BulkChanges(set_fields={"favorite": True}), "favorite")

    @admin.action(description="Unmark the selected models as favorite")
    def unmark_favorite(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        changes = BulkChanges(set_fields={"favorite": False})
        return self._run(request, queryset, changes, "not favorite")

    @admin.action(description="Mark the selected models as NSFW")
    def mark_nsfw(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        return self._run(request, queryset, BulkChanges(set_fields={"nsfw": True}), "NSFW")

    @admin.action(description="Unmark the selected models as NSFW")
    def unmark_nsfw(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        return self._run(request, queryset, BulkChanges(set_fields={"nsfw": False}), "not NSFW")

    @admin.action(description="Export the selected models as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[CatalogModel]):
        ordered = queryset.order_by(*(queryset.query.order_by or ["name"]), "sha256")
        response = StreamingHttpResponse(export_chunks(ordered, "csv"), content_type=FORMATS["csv"])
        response["Content-Disposition"] = 'attachment; filename="models.csv"'
        return response

    # --- helpers ------------------------------------------------------------------

    def _tags_action(
        self, request: HttpRequest, queryset: QuerySet[CatalogModel], *, action: str, adding: bool
    ):
        form = TagsForm(
            request.POST if "apply" in request.POST else None,
            admin_site=self.admin_site,
            allow_new=adding,
        )
        if not form.is_valid():
            title = "Add tags" if adding else "Remove tags"
            return self._form_page(request, queryset, form, action, title, title)
        tags = list(form.cleaned_data["tags"])
        if adding and form.cleaned_data["new_tags"]:
            tags += tags_resolve_or_create(names=form.cleaned_data["new_tags"])
        names = ", ".join(f"“{tag.name}”" for tag in tags)
        if adding:
            return self._run(request, queryset, BulkChanges(add_tags=tags), f"tagged {names}")
        return self._run(request, queryset, BulkChanges(remove_tags=tags), f"untagged {names}")

    def _run(
        self, request: HttpRequest, queryset: QuerySet[CatalogModel], changes, done: str
    ) -> None:
        result = models_bulk_edit(selection=queryset, changes=changes)
        self.message_user(
            request,
            f"{result.changed:,} of {result.matched:,} selected model(s) changed: {done}.",
            messages.SUCCESS,
        )

    def _form_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[CatalogModel],
        form: forms.Form,
        action: str,
        title: str,
        submit: str,
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "action": action,
            "submit": submit,
            # Posted back as they came: "select all" keeps covering every model
            # the list's filters match, not only the page's rows.
            "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "count": queryset.count(),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)
