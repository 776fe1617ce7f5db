from __future__ import annotations

from django import forms

from subscriptions.models import Scope
from subscriptions.services import section_choices


class SectionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        # indent by depth so the tree reads as a tree in the list
        return "\u00a0\u00a0" * max(obj.depth - 3, 0) + obj.title


class SubscribeForm(forms.Form):
    scope = forms.ChoiceField(label="Suivre", choices=Scope.choices, widget=forms.RadioSelect)
    page = SectionChoiceField(
        label="Rubrique",
        queryset=None,
        required=False,
        empty_label="— choisir une rubrique —",
        help_text=(
            "Pour une rubrique : vous serez prévenu(e) de la page choisie et de ses sous-pages."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["page"].queryset = section_choices(user)
