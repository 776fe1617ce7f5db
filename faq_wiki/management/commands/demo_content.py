from django.core.management.base import BaseCommand

from faq_wiki.demo import demo_content


class Command(BaseCommand):
    help = (
        "Contenus de démonstration (FAQ, wiki, espace des éditeurs, manuels) de chaque plateforme."
    )

    def handle(self, *args, **options):
        demo_content()
