from django.core.management.base import BaseCommand, CommandError

from tenants.dbaccess import DbAccessError, revoke_readonly


class Command(BaseCommand):
    help = "Drop a read-only role made by db_readonly_grant."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True)

    def handle(self, *args, role, **options):
        try:
            dropped = revoke_readonly(role)
        except DbAccessError as exc:
            raise CommandError(str(exc)) from exc
        if dropped:
            self.stdout.write(f"Rôle « {role} » supprimé.")
        else:
            self.stdout.write(f"Rôle « {role} » inexistant : rien à faire.")
