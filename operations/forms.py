from __future__ import annotations

from django import forms
from django.utils import timezone

from operations.evolutions import DECISIONS, MSG_DECISION
from operations.hotline import MONTHS_FR
from operations.models import (
    PLATFORM_CHOICES,
    RESOLVED_STATUSES,
    Anomaly,
    Correspondent,
    EvolutionRequest,
    FormWorkEntry,
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

    def __init__(self, *args, platforms: list[str] | None = None, **kwargs):
        """``platforms``: the only ones offered (a correspondent reports on those they follow)."""
        super().__init__(*args, **kwargs)
        if platforms is not None:
            field = self.fields["platforms"]
            field.choices = [(c, label) for c, label in PLATFORM_CHOICES if c in platforms]


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


class CorrespondentForm(forms.Form):
    """A correspondent: the e-mails of the platforms followed, and optionally an account to
    read and report anomalies (written by services.correspondent_save)."""

    name = forms.CharField(label="Nom", max_length=200)
    email = forms.EmailField(label="Adresse électronique")
    platforms = forms.MultipleChoiceField(
        label="Plateformes suivies",
        choices=PLATFORM_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucune cochée : toutes les plateformes.",
    )
    tracker_access = forms.BooleanField(
        label="Accès au suivi des anomalies (compte sur cet espace : lire et signaler)",
        required=False,
    )
    active = forms.BooleanField(label="Actif", required=False, initial=True)

    @classmethod
    def for_instance(cls, correspondent: Correspondent, data=None) -> CorrespondentForm:
        user = correspondent.user
        return cls(
            data,
            initial={
                "name": correspondent.name,
                "email": correspondent.email,
                "platforms": correspondent.platforms,
                "tracker_access": bool(user and user.is_active),
                "active": correspondent.active,
            },
        )


DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ReleaseForm(forms.ModelForm):
    """A release (written by versions.release_save)."""

    class Meta:
        model = Release
        fields = ["number", "test_on", "date", "corrections", "evolutions"]
        widgets = {"test_on": DATE_INPUT, "date": DATE_INPUT}
        help_texts = {"date": "Date prévue tant que la version n'est pas publiée."}


class MaintenanceWindowForm(forms.ModelForm):
    """A maintenance window asked of CGLLS (written by services.maintenance_request)."""

    platforms = forms.MultipleChoiceField(
        label="Plateformes concernées",
        choices=PLATFORM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = MaintenanceWindow
        fields = ["platforms", "features", "reason", "starts_at", "ends_at", "blocking_anomaly"]
        widgets = {
            "starts_at": DATETIME_INPUT,
            "ends_at": DATETIME_INPUT,
            "features": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "starts_at": "Au moins 48 heures après la demande, sauf anomalie bloquante.",
            "blocking_anomaly": "Seulement pour corriger une anomalie critique (bloquante) : "
            "la demande peut alors être faite moins de 48 heures à l'avance.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any anomaly may be chosen (the service says why a non-critical one does not do);
        # the unresolved critical ones come first
        self.fields["blocking_anomaly"].queryset = Anomaly.objects.exclude(
            status__in=RESOLVED_STATUSES
        ).order_by("severity", "-created_at")


class MaintenanceDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        choices=[("approve", "Approuver"), ("refuse", "Refuser")],
        error_messages={"required": "Choisissez : approuver ou refuser."},
    )
    comment = forms.CharField(
        label="Motif (obligatoire pour un refus)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AnomalyDetailsForm(forms.ModelForm):
    """The details operator staff correct after the report; status and severity are changed
    on the anomaly's page (they e-mail the correspondents)."""

    platforms = forms.MultipleChoiceField(
        label="Plateformes concernées",
        choices=PLATFORM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Anomaly
        fields = [
            "short_description", "found_on", "fixed_test_on", "fixed_prod_on",
            "release", "reporter", "platforms",
        ]  # fmt: skip
        widgets = {
            "found_on": DATE_INPUT,
            "fixed_test_on": DATE_INPUT,
            "fixed_prod_on": DATE_INPUT,
            "short_description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "short_description": "Entre 20 et 40 mots.",
            "release": "La version qui livre la correction (enregistrée dans « Versions »).",
        }


class SynthesisForm(forms.Form):
    """The month of the anomalies' monthly synthesis and the file wanted."""

    annee = forms.IntegerField(
        label="Année",
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": "Indiquez l'année.",
            "invalid": "L'année doit être un nombre, par exemple 2026.",
            "min_value": "L'année doit être comprise entre 2000 et 2100.",
            "max_value": "L'année doit être comprise entre 2000 et 2100.",
        },
    )
    mois = forms.IntegerField(
        label="Mois",
        min_value=1,
        max_value=12,
        widget=forms.Select(
            choices=[(i, label.capitalize()) for i, label in enumerate(MONTHS_FR, 1)]
        ),
        error_messages={
            "required": "Indiquez le mois.",
            "invalid": "Le mois doit être un nombre de 1 à 12.",
            "min_value": "Le mois doit être un nombre de 1 à 12.",
            "max_value": "Le mois doit être un nombre de 1 à 12.",
        },
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("", "Afficher"), ("pdf", "PDF"), ("xlsx", "XLSX")],
        required=False,
        error_messages={"invalid_choice": "Format inconnu : choisissez PDF ou XLSX."},
    )

    def clean(self):
        data = super().clean()
        year, month = data.get("annee"), data.get("mois")
        if year and month and (year, month) > tuple(timezone.localdate().timetuple()[:2]):
            raise forms.ValidationError(
                "Ce mois n'a pas encore commencé : choisissez le mois en cours ou un mois passé."
            )
        return data


# --- Evolution requests, form-integration workload ---------------------------------------------


class EvolutionRequestForm(forms.ModelForm):
    """An evolution request as the staff record and estimate it (evolutions.py writes it)."""

    platforms = forms.MultipleChoiceField(
        label="Plateformes concernées",
        choices=PLATFORM_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    class Meta:
        model = EvolutionRequest
        fields = [
            "description", "requested_on", "requester", "requester_kind", "all_federations",
            "platforms", "priority", "person_days", "cost", "delay",
        ]  # fmt: skip
        widgets = {"requested_on": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "description": "Entre 20 et 40 mots.",
            "priority": "Proposé à l'issue du comité de pilotage.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("person_days", "cost"):
            self.fields[name].localize = True  # "2,5" as people write it
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def _post_clean(self):
        # the model's validation runs in the service, with the rules across fields
        pass


class EvolutionDecisionForm(forms.Form):
    status = forms.ChoiceField(
        label="Situation",
        choices=[(c.value, c.label) for c in DECISIONS],
        error_messages={"invalid_choice": MSG_DECISION, "required": MSG_DECISION},
    )


class EvolutionDeliveryForm(forms.Form):
    release = forms.ModelChoiceField(
        label="Version qui livre l'évolution",
        queryset=Release.objects.all(),
        error_messages={
            "required": "Choisissez la version qui livre l'évolution.",
            "invalid_choice": "Cette version n'existe pas : enregistrez-la d'abord.",
        },
    )


class FormWorkEntryForm(forms.ModelForm):
    class Meta:
        model = FormWorkEntry
        fields = ["day", "platform", "form_version", "person_days", "description"]
        widgets = {"day": DATE_INPUT, "description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person_days"].localize = True
        self.fields["person_days"].widget = forms.TextInput(attrs={"inputmode": "decimal"})
        self.fields["person_days"].help_text = "Par exemple 0,5 pour une demi-journée."

    def _post_clean(self):
        pass  # validated by workload.form_work_entry_create
