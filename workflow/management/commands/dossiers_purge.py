import getpass

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context
from harmonia.french import counted

from tenants.models import Platform
from workflow.actions import dossiers_purge
from workflow.services.retention import KEPT_EXERCISES, purge_plan


class Command(BaseCommand):
    help = (
        f"Purge the dossiers older than the last {KEPT_EXERCISES} exercises. Without --confirm, "
        "only lists what would be deleted (dry run)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--platform", help="one platform code (default: all of them)")
        parser.add_argument(
            "--reference", type=int, help="latest exercise kept (default: last year)"
        )
        parser.add_argument("--confirm", action="store_true", help="really delete")

    def handle(self, *args, platform=None, reference=None, confirm=False, **options):
        platforms = Platform.objects.declaration_platforms()
        if platform:
            platforms = platforms.filter(code=platform)
            if not platforms.exists():
                raise CommandError(f"Plateforme inconnue : {platform}")
        for p in platforms.order_by("code"):
            with schema_context(p.schema_name):
                plan = purge_plan(reference=reference)
                self.stdout.write(
                    f"{p.code}: exercices antérieurs à {plan.oldest_kept} — "
                    f"{counted(len(plan.dossiers), 'dossier', 'dossiers')}, "
                    f"{counted(plan.exports, 'document', 'documents')}, "
                    f"{counted(plan.attachments, 'pièce jointe', 'pièces jointes')}"
                )
                for line in plan.lines():
                    self.stdout.write(f"  {line}")
                if confirm and plan.dossiers:
                    log = dossiers_purge(reference=reference, run_by=getpass.getuser())
                    self.stdout.write(f"  supprimés ({log})")
        if not confirm:
            self.stdout.write("Simulation : rien n'a été supprimé (ajoutez --confirm pour purger).")
