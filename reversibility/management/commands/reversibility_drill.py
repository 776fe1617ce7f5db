from django.core.management.base import BaseCommand, CommandError

from reversibility.drill import DrillError, reversibility_drill


class Command(BaseCommand):
    help = (
        "Exit drill (CCTP 3.6, 3.7.3): export the whole instance, import it into a scratch "
        "database (created on this server, then dropped), compare every table, and store a "
        "dated report in the operator's space (/operateur/reversibilite/)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--by", default="", help="who runs it (default: the system user)")

    def handle(self, *args, by, **options):
        try:
            report = reversibility_drill(run_by=by)
        except DrillError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{report} : {report.get_outcome_display()} — {report.tables} tables, "
            f"{report.rows} lignes, {report.differences} différence(s), "
            f"{report.summary['durations'][-1]['seconds']} s. Rapport n° {report.pk} dans "
            "l'espace opérateur (/operateur/reversibilite/)."
        )
