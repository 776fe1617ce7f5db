from django import forms
from django.conf import settings

from forms_cms.models import DocumentType, Field
from forms_cms.selectors import campaigns
from organisms.models import Family


class FormVersionUploadForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Document", queryset=DocumentType.objects.all(), empty_label=None
    )
    campaign = forms.ModelChoiceField(label="Campagne", queryset=campaigns(), empty_label=None)
    file = forms.FileField(
        label="Support Excel (.xlsx)",
        help_text=(
            "Chaque cellule de donnée porte un nom défini ; ce nom identifie le champ partout "
            "(saisie, XML, contrôles). Le classeur est entièrement vérifié avant d'être "
            "enregistré."
        ),
    )

    draft = forms.BooleanField(
        label="Garder cette version en brouillon",
        required=False,
        help_text=(
            "Un brouillon n'est vu que des gestionnaires et des éditeurs de logiciel : aucun "
            "dossier ne l'utilise, les organismes, les partenaires et les abonnés n'en sont pas "
            "informés tant qu'il n'est pas publié (bouton « Publier » sur la page de la "
            "version). Sans cette case, la version est publiée dès son dépôt."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".xlsm")):
            raise forms.ValidationError(
                "Seuls les classeurs Excel .xlsx sont acceptés : enregistrez le support au "
                "format « Classeur Excel (.xlsx) »."
            )
        limit = settings.HARMONIA_FORM_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"Le classeur dépasse {limit / (1024 * 1024):.0f} Mo : allégez-le "
                "(images, feuilles inutiles) avant de le déposer."
            )
        return upload


class FieldFilterForm(forms.Form):
    q = forms.CharField(label="Nom ou libellé", required=False)
    sheet = forms.ChoiceField(label="Feuille", required=False)
    kind = forms.ChoiceField(
        label="Nature", required=False, choices=[("", "Toutes"), *Field.Kind.choices]
    )
    common = forms.BooleanField(label="Tronc commun seulement", required=False)

    def __init__(self, *args, sheets=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sheet"].choices = [("", "Toutes"), *((s, s) for s in sheets)]


class FieldEditForm(forms.ModelForm):
    class Meta:
        model = Field
        fields = ["label", "required", "common"]


class DocumentTypeForm(forms.ModelForm):
    families = forms.MultipleChoiceField(
        label="Familles tenues de le déposer",
        choices=Family.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucune cochée : tous les organismes de la plateforme. Les autres familles ne "
        "le voient pas, sauf si le dépôt volontaire est permis.",
    )

    class Meta:
        model = DocumentType
        fields = ["code", "label", "position", "families", "voluntary"]
        help_texts = {
            "code": "Lettres majuscules, chiffres et _ (ex. ENQUETE_EFFECTIFS) ; il nomme le "
            "formulaire dans le format XML et ne change plus une fois un formulaire déposé.",
        }

    def clean_code(self):
        code = self.cleaned_data["code"].strip().upper()
        if self.instance.pk and self.instance.code != code and self.instance.versions.exists():
            raise forms.ValidationError(
                "Ce document a déjà des versions déposées : son code ne peut plus changer."
            )
        return code
