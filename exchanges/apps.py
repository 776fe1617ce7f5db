from django.apps import AppConfig


class ExchangesConfig(AppConfig):
    name = "exchanges"
    verbose_name = "Espace d'échange"

    def ready(self) -> None:
        from exchanges import receivers
        from workflow.signals import dossiers_purge_counted

        dossiers_purge_counted.connect(receivers.count_for_purge, dispatch_uid="exchanges-purge")
