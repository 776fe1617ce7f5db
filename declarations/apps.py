from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"
    verbose_name = "Déclarations"

    def ready(self) -> None:
        from declarations import receivers
        from tenants.signals import platform_prepared

        platform_prepared.connect(receivers.platform_seed, dispatch_uid="declarations-platform")
