"""Admin of the staging area: list, filter, promote and delete pending models.

Both actions call the services the API calls (promotion and deletion), so the
admin never holds a second copy of their rules.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from migration_app.models import PendingImage, PendingModel
from migration_app.services.pending import pending_models_delete
from migration_app.services.promotion import (
    CONFLICT,
    DELETED,
    FAILED,
    IGNORED,
    STRATEGIES,
    PromotionOutcome,
    pending_models_promote,
)

CONFIRM_TEMPLATE = "admin/migration_app/pendingmodel/action_confirm.html"

STRATEGY_HELP = {
    "": "None: import models without a conflict, report conflicts and change nothing else",
    "override": "Override: pending values replace the catalog model's (non-empty ones)",
    "merge": "Merge: pending values fill only the catalog model's empty fields",
    "ignore": "Ignore: leave both the catalog model and the pending model as they are",
    "delete": "Delete: remove the conflicting pending model and its images",
}


class PromoteForm(forms.Form):
    strategy = forms.ChoiceField(
        label="When the file's sha256 is already in the catalog",
        choices=[(value, STRATEGY_HELP[value]) for value in ("", *STRATEGIES)],
        widget=forms.RadioSelect,
        required=False,
        initial="",
    )


def thumbnail_html(image: PendingImage | None):
    if image is None:
        return "-"
    url = reverse("pending-image", kwargs={"name": image.file_name})
    return format_html('<img src="{}?quality=low" alt="" style="max-height:48px">', url)


class PendingImageInline(admin.TabularInline):
    model = PendingImage
    fields = ["preview", "file_name", "position", "width", "height"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="image")
    def preview(self, image: PendingImage):
        return thumbnail_html(image)


@admin.register(PendingModel)
class PendingModelAdmin(admin.ModelAdmin):
    list_display = ["display_name", "type", "path", "human_size", "hashed", "thumbnail"]
    list_filter = ["type", "tags"]
    search_fields = ["name", "path"]
    readonly_fields = ["sha256", "size_bytes", "created_at", "staged_at"]
    filter_horizontal = ["tags"]
    inlines = [PendingImageInline]
    actions = ["promote", "delete_pending"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PendingModel]:
        images = PendingImage.objects.order_by("position", "id")
        return super().get_queryset(request).prefetch_related(Prefetch("images", queryset=images))

    def get_actions(self, request: HttpRequest) -> dict:
        # Deleting goes through the "Delete" action below (the staging service).
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="name", ordering="name")
    def display_name(self, pending: PendingModel) -> str:
        return pending.display_name

    @admin.display(description="size", ordering="size_bytes")
    def human_size(self, pending: PendingModel) -> str:
        return filesizeformat(pending.size_bytes)

    @admin.display(description="hashed", boolean=True)
    def hashed(self, pending: PendingModel) -> bool:
        return bool(pending.sha256)

    @admin.display(description="image")
    def thumbnail(self, pending: PendingModel):
        images = list(pending.images.all())
        return thumbnail_html(images[0] if images else None)

    @admin.action(
        description="Promote selected pending models to the catalog", permissions=["change"]
    )
    def promote(self, request: HttpRequest, queryset: QuerySet[PendingModel]):
        form = PromoteForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return self._confirm(request, queryset, "promote", "Promote pending models", form)
        names = {pending.pk: pending.display_name for pending in queryset}
        outcomes = pending_models_promote(
            ids=sorted(names), strategy=form.cleaned_data["strategy"] or None
        )
        for outcome in outcomes:
            level, text = _outcome_message(outcome, names.get(outcome.id, str(outcome.id)))
            self.message_user(request, text, level)
        return None

    @admin.action(description="Delete selected pending models", permissions=["delete"])
    def delete_pending(self, request: HttpRequest, queryset: QuerySet[PendingModel]):
        if "apply" not in request.POST:
            return self._confirm(request, queryset, "delete_pending", "Delete pending models")
        deleted = pending_models_delete(ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            f"Deleted {deleted} pending model(s) and their staged images; "
            "the model files on disk were not touched.",
            messages.SUCCESS,
        )
        return None

    def _confirm(
        self,
        request: HttpRequest,
        queryset: QuerySet[PendingModel],
        action: str,
        title: str,
        form: forms.Form | None = None,
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)


def _outcome_message(outcome: PromotionOutcome, name: str) -> tuple[int, str]:
    if outcome.status == FAILED:
        return messages.ERROR, f"{name}: not promoted. {outcome.error}"
    if outcome.status == CONFLICT:
        existing = outcome.conflict["existing"]
        return messages.WARNING, (
            f"{name}: its sha256 {outcome.sha256} is already in the catalog "
            f"({existing['path'] or 'no path'}); nothing changed. Choose a strategy to resolve it."
        )
    if outcome.status == IGNORED:
        return messages.INFO, f"{name}: conflict ignored; both models left as they were."
    if outcome.status == DELETED:
        return messages.INFO, f"{name}: conflicting pending model deleted."
    return messages.SUCCESS, f"{name}: promoted to the catalog as {outcome.sha256}."
