from django.db import models
from django.db.models.functions import Lower

TAG_NAME_MAX_LENGTH = 64


class Tag(models.Model):
    """A label; names are unique without regard to case and keep their first case."""

    name = models.CharField(max_length=TAG_NAME_MAX_LENGTH)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.name
