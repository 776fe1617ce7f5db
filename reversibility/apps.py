from django.apps import AppConfig


class ReversibilityConfig(AppConfig):
    name = "reversibility"
    verbose_name = "Réversibilité"
