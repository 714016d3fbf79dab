# The curator's marks (favorite, rating, nsfw) and the search index of q
# (catalog/search.py: documents kept by triggers, FTS5 on SQLite, pg_trgm GIN on
# PostgreSQL).

import django.core.validators
from django.db import migrations, models


def install_search(apps, schema_editor):
    from catalog.search import install_search_index

    model = apps.get_model("catalog", "CatalogModel")
    install_search_index(model, schema_editor.connection)


def remove_search(apps, schema_editor):
    from catalog.search import remove_search_index

    remove_search_index(apps.get_model("catalog", "CatalogModel"), schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_filehash_plural"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalogmodel",
            name="favorite",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="catalogmodel",
            name="nsfw",
            field=models.BooleanField(default=False, verbose_name="NSFW"),
        ),
        migrations.AddField(
            model_name="catalogmodel",
            name="rating",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="0 = none, else 1 to 5.",
                validators=[django.core.validators.MaxValueValidator(5)],
            ),
        ),
        migrations.AddConstraint(
            model_name="catalogmodel",
            constraint=models.CheckConstraint(
                condition=models.Q(("rating__lte", 5)), name="catalog_rating_at_most_5"
            ),
        ),
        # Last: on SQLite, adding the constraint rebuilds the table (and would
        # drop triggers made before it).
        migrations.RunPython(install_search, remove_search),
    ]
