from django.apps import AppConfig


class ExtractionsConfig(AppConfig):
    name = "extractions"
    verbose_name = "Extractions en masse"
