"""Create (or bring back to a known state) the platform host and the demo brokerage. Idempotent."""

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brokers import services
from brokers.models import Broker, BrokerChatConfig, User

DEMO_PASSWORD = "demo1234"  # development only, see DESIGN §5
DEMO_PROJECTS = [
    {"name": "Parque Ñuñoa", "developer": "Inmobiliaria Andes", "comuna": "Ñuñoa", "address": "Av. Grecia 1200",
     "subsidy_ds19": True, "description": "Edificio de 12 pisos a pasos del metro Estadio Nacional."},
    {"name": "Condominio Los Robles", "developer": "Constructora Sur", "comuna": "La Florida",
     "address": "Av. La Florida 9000", "subsidy_ds1": True, "description": "Casas con patio y áreas verdes."},
]
# (code, project, type, bedrooms, bathrooms, m², price UF, status, description)
DEMO_UNITS = [
    ("PN-502", "Parque Ñuñoa", "departamento", 2, 2, "58", 4000, "available", "Terraza con vista a la cordillera."),
    ("PN-304", "Parque Ñuñoa", "departamento", 1, 1, "38", 3100, "available", "Orientación norte, para inversión."),
    ("PN-1101", "Parque Ñuñoa", "departamento", 3, 2, "82", 5600, "reserved", "Piso alto, dos estacionamientos."),
    ("LR-12", "Condominio Los Robles", "casa", 3, 2, "95", 4500, "available", "Patio de 60 m² y quincho."),
    ("LR-07", "Condominio Los Robles", "casa", 4, 3, "120", 5900, "sold", "Esquina, con piscina."),
    ("PV-21", None, "oficina", 0, 1, "45", 3800, "available", "Oficina cerca del metro Pedro de Valdivia."),
]


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
        with demo:
            self._catalogue()
            self._visiting_hours()
        self.stdout.write(self.style.SUCCESS(f"Demo brokerage ready: demo.{settings.BASE_DOMAIN}"))

    def _catalogue(self) -> None:
        """A few projects and units (one reserved, one sold: the assistant never offers those)."""
        from properties import services as catalogue
        from properties.models import Project, Unit

        projects = {}
        for data in DEMO_PROJECTS:
            projects[data["name"]] = (Project.objects.filter(name=data["name"]).first()
                                      or catalogue.project_create(data=data))
        for code, project, kind, bedrooms, bathrooms, area, price, status, text in DEMO_UNITS:
            if Unit.objects.filter(code=code).exists():
                continue
            catalogue.unit_create(data={
                "code": code, "project": projects.get(project), "property_type": kind, "bedrooms": bedrooms,
                "bathrooms": bathrooms, "area_m2": Decimal(area), "price": Decimal(price), "price_currency": "UF",
                "status": status, "description": text, "comuna": "" if project else "Providencia"})

    def _visiting_hours(self) -> None:
        """Brokerage-wide visiting hours on weekdays, so the assistant can offer real slots in the demo."""
        from appointments import services as agenda
        from appointments.models import Availability

        if Availability.objects.exists():
            return
        for weekday in range(5):
            for start, end in ((time(10), time(13)), (time(15), time(18))):
                agenda.availability_create(data={"agent": None, "weekday": weekday, "start_time": start,
                                                  "end_time": end, "appointment_type": "property_visit"})

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true")
