from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reversibility.archive import ReversibilityError, import_archive


class Command(BaseCommand):
    help = (
        "Import an archive made by reversibility_export into this empty instance (platforms "
        "created by platforms_sync, no data yet), in one transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, type=Path, help="archive (.zip)")
        parser.add_argument(
            "--confirm",
            action="store_true",
            help="really import (without it: checks only, nothing is changed)",
        )

    def handle(self, *args, input, confirm, **options):
        try:
            result = import_archive(input, dry_run=not confirm)
        except ReversibilityError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(sum(tables.values()) for tables in result.counts.values())
        schemas = ", ".join(result.counts)
        if result.dry_run:
            self.stdout.write(
                f"Simulation : l'archive du {result.manifest['date']} est intacte ; "
                f"importerait {rows} lignes ({schemas}). Ajoutez --confirm pour importer."
            )
            return
        self.stdout.write(
            f"Import terminé : {rows} lignes ({schemas}), {result.media_files} fichiers médias."
        )
