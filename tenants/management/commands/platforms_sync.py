from django.conf import settings
from django.core.management.base import BaseCommand

from tenants.services import platforms_sync


class Command(BaseCommand):
    help = "Create or update the public host and the five platforms (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--base-domain", default=settings.HARMONIA_BASE_DOMAIN)

    def handle(self, *args, base_domain, **options):
        # a port ("localhost:8000") is for links only: host names never carry one
        for platform in platforms_sync(base_domain=base_domain.partition(":")[0]):
            host = platform.get_primary_domain().domain
            self.stdout.write(f"{platform.code:6} {host:30} {platform.name}")
