from django import forms
from django.conf import settings

from accounts.models import PLATFORM_ROLES, Role
from organisms.models import DEPARTEMENT_CHOICES, Family

ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx", ".xlsm")


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier du référentiel (CSV ou Excel .xlsx)",
        help_text=(
            "Colonnes : SIREN, Raison sociale, Famille, Département, et facultativement Actif, "
            "Régime comptable (OPH : publique ou commerce), Clôture (jour et mois de clôture de "
            "l'exercice, 31/12 par défaut) et Fédération (OPH, ESH, COOP ou EPL). Une colonne "
            "facultative absente du fichier laisse ces informations telles qu'elles sont. "
            "Le fichier est entièrement vérifié avant d'être appliqué."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_EXTENSIONS):
            raise forms.ValidationError(
                "Seuls les fichiers .csv et .xlsx sont acceptés : enregistrez le fichier dans "
                "l'un de ces formats."
            )
        limit = settings.HARMONIA_REGISTRY_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"Le fichier dépasse {limit // (1024 * 1024)} Mo : "
                "scindez-le en plusieurs fichiers."
            )
        return upload


class OrganismFilterForm(forms.Form):
    q = forms.CharField(label="Recherche (nom ou SIREN)", required=False)
    family = forms.ChoiceField(
        label="Famille", required=False, choices=[("", "Toutes"), *Family.choices]
    )
    departement = forms.ChoiceField(
        label="Département", required=False, choices=[("", "Tous"), *DEPARTEMENT_CHOICES]
    )


class PlatformUserForm(forms.Form):
    """A gestionnaire creates an account of the platform."""

    username = forms.RegexField(
        label="Identifiant",
        max_length=150,
        regex=r"^[\w.@+-]+$",
        error_messages={
            "invalid": "Identifiant : lettres, chiffres et . @ + - _ seulement, sans espace."
        },
    )
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    email = forms.EmailField(label="Adresse électronique")
    role = forms.ChoiceField(label="Rôle")
    organism_siren = forms.CharField(
        label="SIREN de l'organisme", required=False, help_text="Pour un compte organisme."
    )
    partner = forms.ModelChoiceField(
        label="Partenaire", required=False, queryset=None, help_text="Pour un compte partenaire."
    )

    def __init__(self, *args, **kwargs):
        from organisms.models import Partner

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in Role if r in PLATFORM_ROLES]
        self.fields["partner"].queryset = Partner.objects.all()

    def clean_organism_siren(self):
        from organisms.models import Organism
        from organisms.siren import normalize_siren

        siren = normalize_siren(self.cleaned_data.get("organism_siren"))
        if not siren:
            return None
        organism = Organism.objects.filter(siren=siren).first()
        if organism is None:
            raise forms.ValidationError(
                f"Aucun organisme de SIREN {siren} au référentiel de cette plateforme."
            )
        return organism
