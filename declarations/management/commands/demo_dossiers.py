from django.core.management.base import BaseCommand

from declarations.demo import load_demo_dossiers


class Command(BaseCommand):
    help = (
        "Fill the multivalued lists of a few demo dossiers (ER sociaux, QDIS SEM), after "
        "demo_forms (idempotent)."
    )

    def handle(self, *args, **options):
        for code, organisms in load_demo_dossiers().items():
            self.stdout.write(f"{code:6} {', '.join(organisms)}")
