from django.apps import AppConfig


class BrokersConfig(AppConfig):
    name = "brokers"
    verbose_name = "Corredoras"

    def ready(self) -> None:
        import crm.api.schema  # noqa: F401 — registers the OpenAPI description of our JWT
