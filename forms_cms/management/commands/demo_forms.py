from django.core.management.base import BaseCommand

from forms_cms.demo import load_demo_forms


class Command(BaseCommand):
    help = "Upload the demo form workbooks (real sizes) on every platform (idempotent)."

    def handle(self, *args, **options):
        for code, types in load_demo_forms().items():
            self.stdout.write(f"{code:6} {', '.join(types)}")
