from django.core.management.base import BaseCommand, CommandError

from tenants.dbaccess import DbAccessError, grant_readonly


class Command(BaseCommand):
    help = (
        "Create or rotate a read-only PostgreSQL login role on one platform's schema "
        "(SELECT only). The new password is printed once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--platform", required=True, help="platform code, e.g. dhup")
        parser.add_argument("--role", required=True, help="role name, e.g. lecture_dhup")

    def handle(self, *args, platform, role, **options):
        try:
            password, created = grant_readonly(platform, role)
        except DbAccessError as exc:
            raise CommandError(str(exc)) from exc
        action = "créé" if created else "renouvelé (ancien mot de passe invalidé)"
        self.stdout.write(f"Rôle « {role} » {action} : lecture seule sur la plateforme {platform}.")
        self.stdout.write(f"Mot de passe (affiché une seule fois) : {password}")
