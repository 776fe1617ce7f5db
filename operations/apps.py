from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "exploitation du service"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations import receivers
        from organisms.signals import demo_loaded

        demo_loaded.connect(receivers.demo_correspondent, dispatch_uid="operations-demo")
