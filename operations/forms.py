from __future__ import annotations

from django import forms

from operations.models import (
    PLATFORM_CHOICES,
    Anomaly,
    Correspondent,
    MaintenanceWindow,
    Release,
    Severity,
    Status,
)


class AnomalyForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        label="Plateformes concernées",
        choices=PLATFORM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Anomaly
        fields = ["short_description", "severity", "found_on", "reporter", "platforms"]
        widgets = {
            "found_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "short_description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "short_description": "Entre 20 et 40 mots.",
            "reporter": "Qui a signalé l'anomalie (par téléphone, courriel…).",
        }


class AnomalyChangeForm(forms.Form):
    status = forms.ChoiceField(label="Statut", choices=Status.choices)
    severity = forms.ChoiceField(label="Gravité", choices=Severity.choices)
    comment = forms.CharField(
        label="Commentaire", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ReclassificationForm(forms.Form):
    requested_severity = forms.ChoiceField(label="Gravité demandée", choices=Severity.choices)
    justification = forms.CharField(label="Justification", widget=forms.Textarea(attrs={"rows": 3}))

    def clean_justification(self):
        text = self.cleaned_data["justification"].strip()
        if not text:
            raise forms.ValidationError("Une justification est obligatoire.")
        return text


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label="Statut",
        choices=[("", "Tous"), ("open", "Non résolues"), *Status.choices],
        required=False,
    )
    severity = forms.ChoiceField(
        label="Gravité", choices=[("", "Toutes"), *Severity.choices], required=False
    )
    platform = forms.ChoiceField(
        label="Plateforme", choices=[("", "Toutes"), *PLATFORM_CHOICES], required=False
    )
    overdue = forms.BooleanField(label="En retard seulement", required=False)


class CorrespondentForm(forms.ModelForm):
    class Meta:
        model = Correspondent
        fields = ["name", "email", "active"]


class ReleaseForm(forms.ModelForm):
    class Meta:
        model = Release
        fields = ["number", "date", "corrections", "evolutions"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


class MaintenanceWindowForm(forms.ModelForm):
    platforms = forms.MultipleChoiceField(
        label="Plateformes concernées",
        choices=PLATFORM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["platforms", "reason", "starts_at", "ends_at"]
        widgets = {
            "starts_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "ends_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
        }
