import re

from django import forms

from forms_cms.models import DocumentType
from organisms.forms import PlatformUserForm
from organisms.models import DEPARTEMENT_CHOICES, FEDERATION_CHOICES, Partner
from organisms.regions import REGION_CHOICES
from organisms.siren import normalize_departement
from partners.models import PartnerRule


class PartnerRuleForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Type de document",
        queryset=DocumentType.objects.all(),
        error_messages={
            "required": "Type de document : choisissez-le dans la liste.",
            "invalid_choice": (
                "Type de document inconnu sur cette plateforme : choisissez-le dans la liste."
            ),
        },
    )
    partner_kind = forms.ChoiceField(label="Type de partenaire", choices=Partner.Kind.choices)
    partner = forms.ModelChoiceField(
        label="Partenaire précis (facultatif)",
        queryset=Partner.objects.order_by("kind", "name"),
        required=False,
        help_text=(
            "Vide : la règle vaut pour tous les partenaires de ce type (pour les préfectures, "
            "celle du département de l'organisme). Une règle sur un partenaire précis "
            "l'emporte sur celle de son type."
        ),
    )
    mode = forms.ChoiceField(label="Règle", choices=PartnerRule.Mode.choices)
    transmit_at = forms.CharField(
        label="Transmission automatique aux sous-étapes et étapes",
        required=False,
        max_length=200,
        help_text=(
            "Codes séparés par des virgules : sous-étapes de l'étape 4 (4.1 … 4.8) ou étapes "
            "(5, 6). Par exemple : 4.1, 4.8, 6."
        ),
    )

    @classmethod
    def for_rule(cls, rule: PartnerRule, data=None):
        return cls(
            data,
            initial={
                "document_type": rule.document_type,
                "partner_kind": rule.partner_kind,
                "partner": rule.partner,
                "mode": rule.mode,
                "transmit_at": rule.transmit_at.replace(",", ", "),
            },
        )


class AccessLogFilterForm(forms.Form):
    partner = forms.ModelChoiceField(
        label="Partenaire",
        queryset=Partner.objects.order_by("kind", "name"),
        required=False,
        empty_label="Tous",
    )


def _choice_errors(label: str) -> dict:
    return {
        "invalid_choice": f"{label} : « %(value)s » n'est pas dans la liste ; choisissez-y.",
    }


class PartnerForm(forms.Form):
    """A partner as gestionnaires create and edit it; the service checks what each kind
    needs (a département, a region and its départements, a federation)."""

    kind = forms.ChoiceField(
        label="Type de partenaire",
        choices=Partner.Kind.choices,
        error_messages={
            "required": "Type de partenaire : choisissez-le dans la liste.",
            **_choice_errors("Type de partenaire"),
        },
    )
    name = forms.CharField(
        label="Nom",
        max_length=255,
        error_messages={
            "required": "Nom : indiquez le nom du partenaire.",
            "max_length": "Nom : 255 caractères au plus.",
        },
        help_text="Unique sur la plateforme, par exemple « DDT du Rhône (69) ».",
    )
    departement = forms.ChoiceField(
        label="Département (préfecture, DDT / DDTM)",
        choices=[("", "—"), *DEPARTEMENT_CHOICES],
        required=False,
        error_messages=_choice_errors("Département"),
        help_text="Une préfecture ou une DDT(M) reçoit les documents des organismes de ce "
        "département.",
    )
    region = forms.ChoiceField(
        label="Région (DREAL)",
        choices=[("", "—"), *REGION_CHOICES],
        required=False,
        error_messages=_choice_errors("Région"),
    )
    departements = forms.CharField(
        label="Départements couverts (DREAL)",
        required=False,
        max_length=500,
        help_text="Codes séparés par des virgules, tous de la région choisie, par exemple : "
        "01, 03, 07, 15, 26, 38, 42, 43, 63, 69, 73, 74.",
    )
    federation = forms.ChoiceField(
        label="Fédération (fédérations sur la plateforme du ministère)",
        choices=[("", "—"), *FEDERATION_CHOICES],
        required=False,
        error_messages=_choice_errors("Fédération"),
        help_text="Une fédération ne reçoit que les documents de ses adhérents.",
    )

    @classmethod
    def for_partner(cls, partner: Partner, data=None):
        return cls(
            data,
            initial={
                "kind": partner.kind,
                "name": partner.name,
                "departement": partner.departement,
                "region": partner.region,
                "departements": ", ".join(partner.departements),
                "federation": partner.federation,
            },
        )

    def clean_departements(self) -> list[str]:
        text = self.cleaned_data.get("departements") or ""
        codes = (normalize_departement(c) for c in re.split(r"[\s,;]+", text))
        return [code for code in codes if code]


class PartnerUserForm(PlatformUserForm):
    """An account of one partner: the platform's account form without role nor binding."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("role", "organism_siren", "partner"):
            del self.fields[name]
