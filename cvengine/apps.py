from django.apps import AppConfig


class CVEngineConfig(AppConfig):
    name = "cvengine"
    verbose_name = "CV Engine platform"

    def ready(self):
        from . import checks  # noqa: F401  (registers system checks)
