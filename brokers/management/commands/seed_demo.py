"""Create (or bring back to a known state) the platform host and the demo brokerage. Idempotent."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brokers import services
from brokers.models import Broker, BrokerChatConfig, User

DEMO_PASSWORD = "demo1234"  # development only, see DESIGN §5


class Command(BaseCommand):
    help = "Seed the public tenant, the 'demo' brokerage and its demo logins (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG and not options.get("force"):
            raise CommandError("seed_demo is for development (DJANGO_DEBUG=true); use --force to override.")
        services.platform_ensure()

        demo = Broker.objects.filter(slug="demo").first()
        if demo is None:
            demo = services.broker_register(
                name="Corredora Demo", slug="demo", admin_email="admin@demo.cl", admin_name="Admin Demo",
                password=DEMO_PASSWORD, contact_phone="+56912345678", validate=False,
            )
        if not User.objects.filter(email="agente@demo.cl").exists():
            User.objects.create_user("agente@demo.cl", DEMO_PASSWORD, name="Agente Demo",
                                     role=User.Role.AGENT, broker=demo)
        if not User.objects.filter(email="root@corredora.local").exists():
            User.objects.create_superuser("root@corredora.local", DEMO_PASSWORD, name="Root")
        chat = BrokerChatConfig.objects.get(broker=demo)
        chat.telegram_secret_token = "demo-telegram-secret"
        chat.whatsapp_phone_number_id = "100000000000001"
        chat.whatsapp_verify_token = "demo-verify-token"
        chat.whatsapp_app_secret = "demo-app-secret"
        chat.save()
        self.stdout.write(self.style.SUCCESS("Demo brokerage ready: demo.%s" % settings.BASE_DOMAIN))

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true")
