from django.apps import AppConfig


class TemplatesConfig(AppConfig):
    name = "templates"
    verbose_name = "Plantillas"
