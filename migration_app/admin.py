"""Admin of the staging area: list, filter, promote and delete pending models.

Both actions call the services the API calls (promotion and deletion), so the
admin never holds a second copy of their rules.
"""

from __future__ import annotations

import os
from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import CatalogModel, display_name_for
from catalog.sidecar_admin import HasSidecarsFilter, sidecars_summary
from config.admin import epoch_ms_display
from migration_app.models import PendingImage, PendingModel
from migration_app.services.pending import pending_models_delete
from migration_app.services.promotion import (
    CONFLICT,
    DELETED,
    FAILED,
    IGNORED,
    STRATEGIES,
    SUCCESS,
    PromotionOutcome,
    pending_models_promote,
)

CONFIRM_TEMPLATE = "admin/migration_app/pendingmodel/action_confirm.html"
# Pending models a confirmation page lists by name; the rest are counted.
CONFIRM_LISTED = 100

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


def shortened_html(text: str, *, keep: int, title: str = "") -> str:
    """``text`` cut in the middle to at most ``keep`` characters; ``title`` (or the
    whole text) shows on hover.

    The middle goes: the start of a folder says which root it is under and the
    end is the folder the file sits in; both matter more than those between.
    One line whatever its length (config/static/config/admin.css).
    """
    if len(text) > keep:
        head = keep // 3
        text = f"{text[:head]}…{text[-(keep - head - 1) :]}"
    return format_html('<span class="one-line" title="{}">{}</span>', title or text, text)


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


class ConflictFilter(admin.SimpleListFilter):
    """Whether promoting the file would meet a catalog model holding the same bytes."""

    title = "catalog conflict"
    parameter_name = "conflict"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list:
        return [
            ("yes", "Same bytes already in the catalog"),
            ("no", "Hashed, new to the catalog"),
            ("unhashed", "Not hashed yet"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[PendingModel]):
        in_catalog = Exists(CatalogModel.objects.filter(pk=OuterRef("sha256")))
        if self.value() == "yes":
            return queryset.exclude(sha256="").filter(in_catalog)
        if self.value() == "no":
            return queryset.exclude(sha256="").filter(~in_catalog)
        if self.value() == "unhashed":
            return queryset.filter(sha256="")
        return queryset


@admin.register(PendingModel)
class PendingModelAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "type",
        "base_model",
        "kind",
        "short_path",
        "human_size",
        "hashed",
        "thumbnail",
    ]
    list_filter = [
        "type",
        ConflictFilter,
        "base_model",
        "architecture",
        "kind",
        ("tags", admin.RelatedOnlyFieldListFilter),
        HasSidecarsFilter,
    ]
    search_fields = ["name", "path"]
    search_help_text = "Name, or any part of the file's path."
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["name", "type", "path", "tags"]}),
        ("File", {"fields": ["sha256", "size_bytes", "created", "staged_at"]}),
        ("Read from the file's header", {"fields": ["architecture", "base_model", "kind"]}),
        (
            "Metadata",
            {"fields": ["description", "community_links", "prompt_positive", "prompt_negative"]},
        ),
        ("Sidecars other tools wrote beside the file", {"fields": ["sidecars"]}),
    ]
    readonly_fields = [
        "sha256",
        "size_bytes",
        "created",
        "staged_at",
        "architecture",
        "base_model",
        "kind",
        "sidecars",
    ]
    # Autocomplete, not a two-pane list: a library may hold thousands of tags.
    autocomplete_fields = ["tags"]
    inlines = [PendingImageInline]
    actions = ["promote", "delete_pending"]

    class Media:
        css = {"all": ["config/admin.css"]}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Pending models come from a scan or a legacy import, never by hand.
        return False

    @admin.display(description="sidecars")
    def sidecars(self, pending: PendingModel) -> str:
        return sidecars_summary(pending)

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
        return shortened_html(pending.display_name, keep=36)

    @admin.display(description="folder", ordering="path")
    def short_path(self, pending: PendingModel) -> str:
        # The file name is in the name column; this one says where it lies.
        folder = os.path.dirname(pending.path.replace("\\", "/")) or pending.path
        return shortened_html(folder, keep=32, title=pending.path)

    @admin.display(description="created", ordering="created_at")
    def created(self, pending: PendingModel) -> str:
        return epoch_ms_display(pending.created_at)

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
        names = {
            pk: name or display_name_for(path)
            for pk, name, path in queryset.values_list("pk", "name", "path")
        }
        strategy = form.cleaned_data["strategy"] or None
        outcomes = pending_models_promote(ids=sorted(names), strategy=strategy)
        for level, text in promotion_messages(outcomes, names, strategy):
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
        count = queryset.count()
        # "Select all N" sends select_across: the page posts that back rather
        # than N ids (Django refuses more than 1,000 fields in one request).
        select_across = request.POST.get("select_across") == "1"
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "items": queryset.order_by("pk")[:CONFIRM_LISTED],
            "count": count,
            "more": max(0, count - CONFIRM_LISTED),
            "select_across": select_across,
            "ids": [] if select_across else list(queryset.values_list("pk", flat=True)),
            "first_id": queryset.values_list("pk", flat=True).first(),
            "form": form,
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)


def promotion_messages(
    outcomes: list[PromotionOutcome], names: dict[int, str], strategy: str | None
) -> list[tuple[int, str]]:
    """Admin messages for a promotion: one per model, or one per outcome for many.

    Messages begin with a verb, not the model's name: the admin capitalises a
    message's first letter, and file names are kept as written.
    """
    shas = {o.sha256 for o in outcomes if o.status == CONFLICT or o.merged}
    existing = {
        pk: name or display_name_for(path)
        for pk, name, path in CatalogModel.objects.filter(pk__in=shas).values_list(
            "pk", "name", "path"
        )
    }

    def name_of(outcome: PromotionOutcome) -> str:
        return names.get(outcome.id) or f"pending model {outcome.id}"

    if len(outcomes) <= MESSAGE_EACH_UP_TO:
        return [
            _outcome_message(outcome, name_of(outcome), existing, strategy) for outcome in outcomes
        ]
    groups: dict[str, list[PromotionOutcome]] = defaultdict(list)
    for outcome in outcomes:
        groups["merged" if outcome.merged else outcome.status].append(outcome)
    texts = []
    for key, (level, template) in _SUMMARIES.items():
        group = groups.get(key)
        if not group:
            continue
        shown = ", ".join(f"“{name_of(o)}”" for o in group[:3])
        more = f" and {len(group) - 3:,} more" if len(group) > 3 else ""
        text = template.format(n=f"{len(group):,}", names=f"{shown}{more}")
        if key == FAILED:
            text += f" The first error: {group[0].error}"
        texts.append((level, text))
    return texts


MESSAGE_EACH_UP_TO = 10

_SUMMARIES = {
    SUCCESS: (messages.SUCCESS, "Promoted {n} pending models to the catalog ({names})."),
    "merged": (
        messages.SUCCESS,
        "Merged {n} pending models into catalog models that already held the same files ({names}).",
    ),
    CONFLICT: (
        messages.WARNING,
        "Not promoted, their files are already in the catalog: {n} ({names}); nothing "
        "changed. Choose a conflict strategy to resolve them.",
    ),
    IGNORED: (messages.INFO, "Conflicts ignored for {n} ({names}); all left as they were."),
    DELETED: (
        messages.INFO,
        "Deleted {n} pending models whose files the catalog already holds ({names}).",
    ),
    FAILED: (messages.ERROR, "Not promoted: {n} ({names})."),
}


def _outcome_message(
    outcome: PromotionOutcome, name: str, existing: dict[str, str], strategy: str | None
) -> tuple[int, str]:
    sha = f"sha256 {outcome.sha256[:12]}…"
    if outcome.status == FAILED:
        return messages.ERROR, f"Not promoted: “{name}”. {outcome.error}"
    if outcome.status == CONFLICT:
        other = existing.get(outcome.sha256) or outcome.conflict["existing"]["path"]
        return messages.WARNING, (
            f"Not promoted: “{name}” holds the same file as the catalog model “{other}” "
            f"({sha}); nothing changed. Choose a conflict strategy to resolve it."
        )
    if outcome.status == IGNORED:
        return messages.INFO, (
            f"Left as they were: “{name}” and the catalog model with the same file "
            "(conflict ignored)."
        )
    if outcome.status == DELETED:
        return messages.INFO, (
            f"Deleted the pending model “{name}”: the catalog already holds its file ({sha})."
        )
    if outcome.merged and strategy == "override":
        # The catalog model now carries the pending values, its name included.
        return messages.SUCCESS, (
            f"Merged “{name}” into the catalog model that held the same file ({sha}): "
            "its values replaced that model's, its tags and images were added."
        )
    if outcome.merged:
        other = existing.get(outcome.sha256) or outcome.sha256
        return messages.SUCCESS, (
            f"Merged “{name}” into the catalog model “{other}”, which held the same file "
            f"({sha}): its values filled that model's empty fields, its tags and images "
            "were added."
        )
    return messages.SUCCESS, f"Promoted “{name}” to the catalog ({sha})."
