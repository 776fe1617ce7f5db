from django import forms
from django.conf import settings

from organisms.models import DEPARTEMENT_CHOICES, Family

ALLOWED_EXTENSIONS = (".csv", ".txt", ".xlsx", ".xlsm")


class RegistryUploadForm(forms.Form):
    file = forms.FileField(
        label="Fichier du référentiel (CSV ou Excel .xlsx)",
        help_text=(
            "Colonnes : SIREN, Raison sociale, Famille, Département, et facultativement Actif. "
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
