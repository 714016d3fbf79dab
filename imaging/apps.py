from django.apps import AppConfig


class ImagingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "imaging"
    verbose_name = "Sample images"

    def ready(self) -> None:
        # Every app's models are loaded before any ready() runs, so subclasses
        # defined in apps listed after this one are found too.
        from imaging import jobs  # noqa: F401 - registers the job kinds
        from imaging.signals import connect_receivers

        connect_receivers()
