from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from reversibility.archive import ReversibilityError, export_archive


class Command(BaseCommand):
    help = (
        "Export one platform (--platform) or the whole instance to a self-describing ZIP "
        "archive (JSON data, dossiers as XML, files, documentation) for a successor."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, type=Path, help="archive to write (.zip)")
        parser.add_argument("--platform", help="platform code; default: the whole instance")
        parser.add_argument(
            "--with-password-hashes",
            action="store_true",
            help="keep password and API key hashes (default: replaced by an unusable value)",
        )

    def handle(self, *args, output, platform, with_password_hashes, **options):
        try:
            result = export_archive(
                output, platform=platform, with_credentials=with_password_hashes
            )
        except ReversibilityError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        rows = sum(
            t["rows"] for entry in manifest["schemas"].values() for t in entry["tables"].values()
        )
        self.stdout.write(
            f"Archive écrite : {result.path} ({len(manifest['files'])} fichiers, "
            f"{rows} lignes, schémas {', '.join(manifest['schemas'])})."
        )
