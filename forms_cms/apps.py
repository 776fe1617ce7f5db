from django.apps import AppConfig


class FormsCmsConfig(AppConfig):
    name = "forms_cms"
    verbose_name = "Formulaires"
