from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    """What a person does on Harmonia. The first four exist on platforms, the others on the
    public host (operator's space)."""

    ORGANISME = "organisme", "Organisme"
    GESTIONNAIRE = "gestionnaire", "Gestionnaire"
    PARTENAIRE = "partenaire", "Partenaire"
    EDITEUR = "editeur", "Éditeur de logiciel"
    HOTLINE = "hotline", "Opérateur — hotline"
    MAINTENANCE = "maintenance", "Opérateur — maintenance"
    CGLLS = "cglls", "CGLLS"
    # a partner's correspondent named by CGLLS: reads and reports anomalies, nothing else
    CORRESPONDANT = "correspondant", "Correspondant (suivi des anomalies)"


PLATFORM_ROLES = frozenset({Role.ORGANISME, Role.GESTIONNAIRE, Role.PARTENAIRE, Role.EDITEUR})
PUBLIC_ROLES = frozenset({Role.HOTLINE, Role.MAINTENANCE, Role.CGLLS})
# who may read and report anomalies (the incident tracker's authorised list)
TRACKER_ROLES = PUBLIC_ROLES | {Role.CORRESPONDANT}


class User(AbstractUser):
    """A person's account. Each schema has its own users table: an account of one platform
    does not exist on another, and the public host's accounts are the operator's."""

    email = models.EmailField("adresse électronique", unique=True)
    role = models.CharField("rôle", max_length=20, choices=Role.choices)

    REQUIRED_FIELDS = ["email", "role"]

    class Meta:
        verbose_name = "utilisateur"
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username
