from django.apps import AppConfig


class OrganismsConfig(AppConfig):
    name = "organisms"
    verbose_name = "Organismes"

    def ready(self) -> None:
        from organisms import receivers
        from tenants.signals import platform_prepared

        platform_prepared.connect(receivers.platform_seed, dispatch_uid="organisms-platform")
