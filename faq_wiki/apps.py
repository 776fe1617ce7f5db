from django.apps import AppConfig


class FaqWikiConfig(AppConfig):
    name = "faq_wiki"
    verbose_name = "FAQ, wiki et manuels"
