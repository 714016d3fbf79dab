from django.apps import AppConfig


class MigrationAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "migration_app"
    verbose_name = "Staging"

    def ready(self) -> None:
        from migration_app import jobs  # noqa: F401 - registers the job kinds
