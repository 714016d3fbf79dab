# Library health: the locations of each catalog model's file (docs/library-health.md).

import time

import django.db.models.deletion
from django.db import migrations, models

BATCH = 1000


def locations_from_paths(apps, schema_editor):
    """One location per catalog model, from its ``path``.

    Files are not looked at here: the first verify records their stat. Two
    models claiming one path (possible in imported data) cannot both be there;
    the path goes to the first by sha256. A model left without a location
    (no path, or such a second claim) is nowhere on disk: missing, since now
    (a curator can set its path, which records it).
    """
    CatalogModel = apps.get_model("catalog", "CatalogModel")
    ModelLocation = apps.get_model("catalog", "ModelLocation")
    db = schema_editor.connection.alias
    seen: set[str] = set()
    batch = []
    rows = (
        CatalogModel.objects.using(db)
        .exclude(path="")
        .order_by("sha256")
        .values_list("sha256", "path", "size_bytes")
    )
    for sha256, path, size_bytes in rows.iterator(chunk_size=BATCH):
        if path in seen:
            continue
        seen.add(path)
        batch.append(ModelLocation(model_id=sha256, path=path, size_bytes=size_bytes))
        if len(batch) >= BATCH:
            ModelLocation.objects.using(db).bulk_create(batch)
            batch = []
    ModelLocation.objects.using(db).bulk_create(batch)
    CatalogModel.objects.using(db).filter(locations__isnull=True).update(
        missing=True, missing_since=time.time_ns() // 1_000_000
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_user_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="catalogmodel",
            name="missing",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="catalogmodel",
            name="missing_since",
            field=models.BigIntegerField(blank=True, help_text="Epoch milliseconds.", null=True),
        ),
        migrations.AddIndex(
            model_name="catalogmodel",
            index=models.Index(
                condition=models.Q(("missing", True)),
                fields=["missing"],
                name="catalog_missing_idx",
            ),
        ),
        migrations.CreateModel(
            name="ModelLocation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("path", models.CharField(max_length=4096, unique=True)),
                ("size_bytes", models.BigIntegerField(default=0)),
                ("mtime_ns", models.BigIntegerField(default=0)),
                ("device", models.BigIntegerField(blank=True, null=True)),
                ("inode", models.BigIntegerField(blank=True, null=True)),
                ("missing", models.BooleanField(default=False)),
                (
                    "missing_since",
                    models.BigIntegerField(blank=True, help_text="Epoch milliseconds.", null=True),
                ),
                (
                    "model",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="locations",
                        to="catalog.catalogmodel",
                    ),
                ),
            ],
            options={
                "verbose_name": "model location",
                "ordering": ["model", "id"],
                "indexes": [
                    models.Index(fields=["missing", "size_bytes"], name="location_missing_size_idx")
                ],
            },
        ),
        migrations.RunPython(locations_from_paths, migrations.RunPython.noop, elidable=True),
    ]
