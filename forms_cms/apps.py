from django.apps import AppConfig


class FormsCmsConfig(AppConfig):
    name = "forms_cms"
    verbose_name = "Formulaires"

    def ready(self) -> None:
        from forms_cms import receivers
        from tenants.signals import platform_prepared

        platform_prepared.connect(receivers.platform_seed, dispatch_uid="forms-platform")
