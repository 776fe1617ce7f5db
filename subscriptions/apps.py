from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "abonnements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from forms_cms.signals import version_uploaded
        from subscriptions import signals  # connects Wagtail's page_published too

        version_uploaded.connect(signals.on_version_uploaded, dispatch_uid="subscriptions-version")
