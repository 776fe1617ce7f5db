from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "subscriptions"
    verbose_name = "abonnements"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from forms_cms.signals import version_published
        from subscriptions import signals  # connects Wagtail's page_published too

        version_published.connect(
            signals.on_version_published, dispatch_uid="subscriptions-version"
        )
