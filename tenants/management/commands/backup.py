from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tenants.backups import BackupError, backup


class Command(BaseCommand):
    help = (
        "Back up the whole database (or one platform's schema) with pg_dump, plus the media "
        "files, into an empty folder with a manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="empty or new folder")
        parser.add_argument("--platform", help="platform code; default: the whole instance")

    def handle(self, *args, output, platform, **options):
        try:
            result = backup(output, platform=platform)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(f"Sauvegarde écrite dans {result.folder}")
        self.stdout.write(f"Schémas : {', '.join(manifest['schemas'])}")
        for name, info in manifest["files"].items():
            self.stdout.write(f"  {name:16} {info['size']:>12} octets")
