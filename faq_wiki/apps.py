from django.apps import AppConfig


class FaqWikiConfig(AppConfig):
    name = "faq_wiki"
    verbose_name = "FAQ, wiki et manuels"

    def ready(self) -> None:
        from faq_wiki import receivers
        from tenants.signals import platform_prepared

        platform_prepared.connect(receivers.platform_home_seed, dispatch_uid="faq-platform")
        platform_prepared.connect(receivers.legal_pages_create, dispatch_uid="faq-legal-pages")
