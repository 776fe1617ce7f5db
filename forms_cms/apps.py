from django.apps import AppConfig


class FormsCmsConfig(AppConfig):
    name = "forms_cms"
    verbose_name = "Formulaires"

    def ready(self) -> None:
        from forms_cms import receivers
        from forms_cms.signals import version_uploaded
        from tenants.signals import platform_prepared

        platform_prepared.connect(receivers.platform_seed, dispatch_uid="forms-platform")
        version_uploaded.connect(
            receivers.second_opinion_queue, dispatch_uid="forms-second-opinion"
        )
