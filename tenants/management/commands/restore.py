from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backups import MEDIA_NAME, BackupError, list_archive, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `backup` into this database (pg_restore --clean --if-exists, "
        "in one transaction): the whole instance, or one platform with --platform; into this "
        "database, or with --database into another existing one (media files untouched then)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, type=Path, help="backup folder")
        parser.add_argument("--platform", help="platform code; default: everything in the backup")
        parser.add_argument(
            "--database",
            help="restore into this other database of the same server (it must exist, e.g. "
            "new and empty); the media files are then not extracted",
        )
        parser.add_argument(
            "--confirm",
            action="store_true",
            help="really restore (without it: dry run, nothing is changed)",
        )

    def handle(self, *args, input, platform, database, confirm, **options):
        try:
            result = restore(input, platform=platform, dry_run=not confirm, database=database)
            manifest = result["manifest"]
            what = f"la plateforme {platform}" if platform else ", ".join(manifest["schemas"])
            if database:
                what += f" dans la base {result['database']}"
            if not confirm:
                tables = [
                    line for line in list_archive(input).splitlines() if " TABLE DATA " in line
                ]
                self.stdout.write(
                    f"Simulation : restaurerait {what} depuis la sauvegarde du "
                    f"{manifest['date']} ({len(tables)} tables). Ajoutez --confirm pour restaurer."
                )
                return
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restauration terminée : {what} (sauvegarde du {manifest['date']}).")
        if (Path(input) / MEDIA_NAME).is_file() and not result["media"]:
            self.stdout.write(
                "Fichiers média non extraits (restauration dans une autre base) : "
                "ils restent dans media.tar.gz."
            )
