"""Create the platform's own tenant row and its BASE_DOMAIN host. Idempotent; safe in production."""

from django.conf import settings
from django.core.management.base import BaseCommand

from brokers.services import platform_ensure


class Command(BaseCommand):
    help = "Make sure the public tenant and the platform host (BASE_DOMAIN) exist."

    def handle(self, *args, **options):
        platform_ensure()
        self.stdout.write(self.style.SUCCESS(f"Platform host ready: {settings.BASE_DOMAIN}"))
