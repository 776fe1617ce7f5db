from django import forms

from forms_cms.models import DocumentType
from organisms.models import Partner
from partners.models import PartnerRule


class PartnerRuleForm(forms.Form):
    document_type = forms.ModelChoiceField(
        label="Type de document", queryset=DocumentType.objects.all()
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
