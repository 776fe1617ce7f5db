from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = "Partenaires"

    def ready(self) -> None:
        from partners import receivers
        from tenants.signals import platform_prepared
        from workflow.signals import dossier_step_changed

        dossier_step_changed.connect(receivers.on_step_change, dispatch_uid="partners-step")
        platform_prepared.connect(receivers.platform_seed, dispatch_uid="partners-platform")
