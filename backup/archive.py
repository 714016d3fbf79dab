"""The catalog archive: one zip file of JSON lines and image files.

    manifest.json                        format, version, row and file counts, columns
    data/<app>.<model>.jsonl             one JSON object per row (column name -> value)
    files/<storage name>                 image originals and their WebP renditions

Tables, in the order they are written and restored: tags; catalog models,
their tag links and every table that points at a catalog model (locations,
sample images, ...); pending models, their tag links and every table that
points at a pending model (pending images, ...). Tables are found through the
models' relations, so a table added later is backed up without a change
here. Not included: the hash cache (it describes this machine's files), jobs,
users and API tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from catalog.models import CatalogModel
from imaging.models import RenditionedImage
from migration_app.models import PendingModel
from tags.models import Tag

FORMAT = "modellib-catalog"
VERSION = 1
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Table:
    """One table of the archive and how it hangs on the others."""

    model: type[models.Model]
    # The attname of the foreign key to the owning catalog or pending model, if any.
    owner_field: str | None = None
    owner: type[models.Model] | None = None
    # A many-to-many link table to Tag: (owner attname, tag attname).
    tag_link: tuple[str, str] | None = None

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    @property
    def entry(self) -> str:
        return f"data/{self.label}.jsonl"

    @property
    def has_files(self) -> bool:
        return issubclass(self.model, RenditionedImage)

    @property
    def columns(self) -> list[str]:
        return [field.attname for field in self.model._meta.concrete_fields]


def tables() -> list[Table]:
    """Every table of the archive, in restore order."""
    result = [Table(Tag)]
    for owner in (CatalogModel, PendingModel):
        links = owner.tags.through
        result.append(
            Table(
                owner,
            )
        )
        result.append(
            Table(
                links,
                owner_field=f"{owner._meta.model_name}_id",
                owner=owner,
                tag_link=(f"{owner._meta.model_name}_id", "tag_id"),
            )
        )
        for relation in owner._meta.related_objects:
            if relation.many_to_many or relation.related_model._meta.auto_created:
                continue
            result.append(
                Table(relation.related_model, owner_field=relation.field.attname, owner=owner)
            )
    return result


def encode_row(row: dict[str, Any]) -> str:
    return json.dumps(row, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def file_names(image: dict[str, Any], model: type[RenditionedImage]) -> list[str]:
    """Storage names of an image row's original and renditions."""
    instance = model(uid=image["uid"])
    return [image["original"], *instance.rendition_names()]
