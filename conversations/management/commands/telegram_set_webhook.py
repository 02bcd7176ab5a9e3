"""Register a brokerage's Telegram bot webhook (setWebhook) with a newly generated secret token."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brokers.models import Broker
from conversations.channels.base import ChannelSendError
from conversations.services import telegram_webhook_register
from crm.errors import ApplicationError


class Command(BaseCommand):
    help = "Point a brokerage's Telegram bot at /webhooks/telegram/<slug>/ with a fresh secret token."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--base-url", default=settings.PUBLIC_BASE_URL,
                            help="public URL of the platform host (default: PUBLIC_BASE_URL)")

    def handle(self, *args, slug, base_url, **options):
        broker = Broker.objects.filter(slug=slug).exclude(schema_name="public").first()
        if broker is None:
            raise CommandError(f"No brokerage with slug {slug!r}.")
        try:
            url = telegram_webhook_register(broker=broker, base_url=base_url)
        except (ApplicationError, ChannelSendError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Telegram webhook set: {url}"))
