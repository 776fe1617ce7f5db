from django import forms

from extractions.models import Extraction


class ExtractionForm(forms.Form):
    format = forms.ChoiceField(
        label="Format", choices=Extraction.Format.choices, widget=forms.RadioSelect
    )
    values = forms.ChoiceField(
        label="Valeurs",
        choices=Extraction.Values.choices,
        initial=Extraction.Values.TRANSMITTED,
        widget=forms.RadioSelect,
        help_text=(
            "Telles que transmises : les valeurs de la dernière transmission de chaque dossier. "
            "Actuelles : les valeurs du dossier aujourd'hui pour les dossiers en fiabilisation, "
            "finalisés ou archivés (un dossier dont la main est rendue à l'organisme reste lu "
            "tel que transmis)."
        ),
    )


class PartnerExtractionForm(forms.Form):
    document = forms.ChoiceField(label="Document et exercice")
    format = forms.ChoiceField(
        label="Format", choices=Extraction.Format.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, documents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].choices = documents
