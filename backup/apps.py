from django.apps import AppConfig


class BackupConfig(AppConfig):
    """Backup and restore of the whole catalog (manage.py export_catalog / import_catalog).

    At the top of the dependency chain: it reads and writes the rows of tags,
    catalog, imaging and migration_app, and none of them imports it.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "backup"
