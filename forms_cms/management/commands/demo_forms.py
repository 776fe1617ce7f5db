from django.core.management.base import BaseCommand

from forms_cms.demo import load_demo_forms


class Command(BaseCommand):
    help = "Upload the demo form workbooks (real sizes) on every platform (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--only", nargs="+", metavar="CODE", help="only these document types (ER_SOCIAUX…)"
        )

    def handle(self, *args, only=None, **options):
        for code, types in load_demo_forms(only=set(only) if only else None).items():
            self.stdout.write(f"{code:6} {', '.join(types)}")
