from django.core.management.base import BaseCommand

from organisms.demo import DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "Load the demo organisms, accounts and 2024 campaigns on every platform (idempotent)."

    def handle(self, *args, **options):
        for code, count in load_demo().items():
            self.stdout.write(f"{code:6} {count} organismes")
        self.stdout.write(f"Comptes de démonstration : mot de passe « {DEMO_PASSWORD} »")
