"""Renditions follow their rows: rendered on create, removed after delete.

``connect_receivers`` (called from ImagingConfig.ready) connects them to every
concrete subclass of RenditionedImage (SampleImage here, PendingImage in the
staging app) without this app importing the subclasses. Connecting per model,
rather than to every sender, keeps Django's fast bulk deletes for the others.
"""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save

from imaging.models import renditioned_models
from imaging.services import image_files_remove_on_commit, renditions_write


def render_on_create(sender, instance, created: bool, raw: bool, **kwargs) -> None:
    # raw: loaddata restores rows whose files are restored separately.
    if created and not raw and instance.original:
        renditions_write(image=instance)


def remove_files_on_delete(sender, instance, **kwargs) -> None:
    image_files_remove_on_commit(image=instance)


def connect_receivers() -> None:
    for model in renditioned_models():
        label = model._meta.label_lower
        post_save.connect(render_on_create, sender=model, dispatch_uid=f"render:{label}")
        post_delete.connect(remove_files_on_delete, sender=model, dispatch_uid=f"remove:{label}")
