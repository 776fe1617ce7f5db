from django import forms

from forms_cms.models import DocumentType


class CampaignOpenForm(forms.Form):
    exercise = forms.IntegerField(label="Exercice", min_value=2000, max_value=2100)
    document_types = forms.ModelMultipleChoiceField(
        label="Documents collectés",
        queryset=DocumentType.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )
    opening_date = forms.DateField(
        label="Date d'ouverture", widget=forms.DateInput(attrs={"type": "date"})
    )
    deadline = forms.DateField(
        label="Date limite de transmission", widget=forms.DateInput(attrs={"type": "date"})
    )
