from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project package as an app: its management commands and system checks."""

    name = "config"
    verbose_name = "Service configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401  (registers the checks)
