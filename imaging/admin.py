"""Sample images in the admin: an inline on the catalog model page, a thumbnail
column in the catalog model list, and a list of all images.

Adds and deletes go through the same services as the API, so seqs stay
0..n-1 here too. The catalog model admin is extended from this app rather
than from catalog/admin.py because dependencies point from imaging to
catalog, never back.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import admin
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from catalog.models import CatalogModel
from config.api import ServiceError
from imaging.models import SampleImage
from imaging.responses import original_extension
from imaging.services import image_decode_check, sample_image_add, sample_image_remove


def rendition_url(*, sha256: str, seq: int, quality: str = "low") -> str:
    return reverse("image-file", kwargs={"name": f"{sha256}_{seq}.webp"}) + f"?quality={quality}"


def original_file_name(image: SampleImage) -> str:
    """``<sha256>_<seq>.<ext>``: the original's public name."""
    extension = original_extension(image)
    return f"{image.base_name}.{extension}" if extension else image.base_name


def original_url(image: SampleImage) -> str:
    """The original's download route (media files have no URL of their own)."""
    return reverse("image-original", kwargs={"name": original_file_name(image)})


@dataclass(frozen=True)
class OriginalLink:
    """What ClearableFileInput shows after "Currently:": a url and a text."""

    url: str
    text: str

    def __str__(self) -> str:
        return self.text


class OriginalFileInput(forms.ClearableFileInput):
    """The file input whose "Currently:" link downloads the original through
    the API route, not from a media URL that nothing serves (or a presigned
    bucket URL)."""

    def is_initial(self, value) -> bool:
        # FieldFile.url is never asked for: it would name a media URL.
        return bool(value and getattr(value, "instance", None) and value.instance.pk)

    def format_value(self, value):
        if self.is_initial(value):
            return OriginalLink(
                url=original_url(value.instance), text=original_file_name(value.instance)
            )
        return None


def thumbnail_html(url: str) -> str:
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="max-height:72px;max-width:108px">', url
    )


@admin.display(description="thumbnail")
def sample_image_thumbnail(image: SampleImage) -> str:
    if image.pk is None:
        return "-"
    return thumbnail_html(rendition_url(sha256=image.model_id, seq=image.seq))


class SampleImageForm(forms.ModelForm):
    class Meta:
        model = SampleImage
        fields = ["original"]
        widgets = {"original": OriginalFileInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A stored image is replaced by deleting it and uploading another.
        if self.instance.pk:
            self.fields["original"].disabled = True

    def clean_original(self):
        upload = self.cleaned_data["original"]
        if self.instance.pk:
            return upload
        try:
            image_decode_check(content=upload.read())
        except ServiceError as error:
            raise forms.ValidationError(error.message, code=error.code) from None
        upload.seek(0)
        return upload


class SampleImageFormSet(BaseInlineFormSet):
    def save_new(self, form, commit=True):
        upload = form.cleaned_data["original"]
        return sample_image_add(model=self.instance, content=upload.read(), file_name=upload.name)

    def delete_existing(self, obj, commit=True):
        if commit:
            sample_image_remove(image_id=obj.pk)


class SampleImageInline(admin.TabularInline):
    model = SampleImage
    form = SampleImageForm
    formset = SampleImageFormSet
    fields = ["thumbnail", "seq", "original", "dimensions"]
    readonly_fields = ["thumbnail", "seq", "dimensions"]
    ordering = ["seq"]
    extra = 1

    @admin.display(description="thumbnail")
    def thumbnail(self, image: SampleImage) -> str:
        return sample_image_thumbnail(image)

    @admin.display(description="size")
    def dimensions(self, image: SampleImage) -> str:
        return f"{image.width}x{image.height}" if image.pk else "-"


def _catalog_admin_base() -> type[admin.ModelAdmin]:
    """The catalog model admin registered by catalog/admin.py, unregistered so
    that a subclass with images can take its place."""
    try:
        base = type(admin.site.get_model_admin(CatalogModel))
    except admin.exceptions.NotRegistered:
        return admin.ModelAdmin
    admin.site.unregister(CatalogModel)
    return base


_CatalogAdminBase = _catalog_admin_base()


@admin.register(CatalogModel)
class CatalogModelWithImagesAdmin(_CatalogAdminBase):
    inlines = [*_CatalogAdminBase.inlines, SampleImageInline]
    list_display = ["first_image", *_CatalogAdminBase.list_display]
    # The thumbnail column comes first; the link stays where it was.
    list_display_links = _CatalogAdminBase.list_display_links or _CatalogAdminBase.list_display[:1]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CatalogModel]:
        # One EXISTS per page query rather than one query per row.
        first = SampleImage.objects.filter(model=OuterRef("pk"), seq=0)
        return super().get_queryset(request).annotate(has_images=Exists(first))

    @admin.display(description="image")
    def first_image(self, model: CatalogModel) -> str:
        if not getattr(model, "has_images", False):
            return "-"
        return thumbnail_html(rendition_url(sha256=model.sha256, seq=0))


@admin.register(SampleImage)
class SampleImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "model", "seq", "dimensions", "created"]
    list_select_related = ["model"]
    search_fields = ["model__sha256", "model__name"]
    fields = [
        "thumbnail",
        "model",
        "seq",
        "original_link",
        "content_sha256",
        "dimensions",
        "created",
    ]
    readonly_fields = fields

    @admin.display(description="thumbnail")
    def thumbnail(self, image: SampleImage) -> str:
        return sample_image_thumbnail(image)

    @admin.display(description="original")
    def original_link(self, image: SampleImage) -> str:
        return format_html('<a href="{}">{}</a>', original_url(image), original_file_name(image))

    @admin.display(description="size")
    def dimensions(self, image: SampleImage) -> str:
        return f"{image.width}x{image.height}"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # images are added on their catalog model's page

    def delete_model(self, request: HttpRequest, obj: SampleImage) -> None:
        sample_image_remove(image_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SampleImage]) -> None:
        for image_id in queryset.values_list("pk", flat=True):
            sample_image_remove(image_id=image_id)
