from django.core.management.base import BaseCommand, CommandError

from operations.recette import RecetteRefused, recette_prepare


class Command(BaseCommand):
    help = (
        "Turn a restored copy of production into the test platform (HARMONIA_ENVIRONMENT="
        "recette only): people pseudonymised, free text and attachments replaced, passwords "
        "and API tokens reset, figures kept, a test organism for editors on each platform."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help="password of the editors' test accounts (default: a new one, printed once)",
        )

    def handle(self, *args, password, **options):
        try:
            result = recette_prepare(password=password)
        except RecetteRefused as exc:
            raise CommandError(str(exc)) from exc
        for schema, counts in result.counts.items():
            detail = ", ".join(f"{n} {what}" for what, n in counts.items())
            self.stdout.write(f"{schema} : {detail}.")
        for code, account in result.test_accounts.items():
            dossier = (
                f"dossier n° {account['dossier']} ({account['document']} {account['exercise']})"
                if account["dossier"]
                else "aucun dossier (aucun formulaire déposé pour la dernière campagne)"
            )
            self.stdout.write(
                f"{code} : organisme de test {account['siren']}, compte « {account['username']} »"
                f" (mot de passe : {account['password']}), {dossier}."
            )
        self.stdout.write(
            "Plateforme de recette prête : mots de passe inutilisables (lien « mot de passe "
            "oublié », envoyé à HARMONIA_RECETTE_MAIL_TO, ou manage.py changepassword), "
            "jetons API révoqués."
        )
