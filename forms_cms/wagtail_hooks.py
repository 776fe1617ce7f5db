"""The forms' managed objects in the platform's Wagtail administration.

Field labels and flags, controls and aggregates (validated by the formula engine exactly as on
the gestionnaire's screens) and the fiabilisation sub-steps are edited in the same admin as the
content pages. Uploading an Excel support stays on its own screen (linked from the menu):
it is a file check and a compilation, not a model form.
"""

from django import forms
from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from forms_cms.controls import (
    AGGREGATE_FIELDS,
    CONTROL_FIELDS,
    aggregate_problems,
    control_problems,
)
from forms_cms.models import Aggregate, Control, Field
from workflow.models import FiabilisationStep


@hooks.register("register_admin_menu_item")
def forms_menu_item():
    return MenuItem(
        "Formulaires (supports Excel)",
        reverse("forms_cms:version_list"),
        icon_name="table",
        order=250,
    )


class _RuleForm(forms.ModelForm):
    """Refuses a rule the engine cannot compile, naming the field (as the screens do)."""

    check = staticmethod(control_problems)

    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("version") or getattr(self.instance, "version", None)
        if version is not None:
            problems = self.check(version, dict(cleaned), exclude_pk=self.instance.pk)
            for name, message in problems.items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class _AggregateForm(_RuleForm):
    check = staticmethod(aggregate_problems)


class FieldViewSet(ModelViewSet):
    model = Field
    url_prefix = "formulaires/champs"
    menu_label = "Libellés des champs"
    icon = "form"
    form_fields = ["label", "required", "common"]
    list_display = ["name", "label", "sheet", "cell", "kind", "version"]
    list_filter = ["version", "kind", "common", "required"]
    search_fields = ["name", "label"]
    search_backend_name = None
    inspect_view_enabled = True


class ControlViewSet(ModelViewSet):
    model = Control
    url_prefix = "formulaires/controles"
    menu_label = "Contrôles"
    icon = "tick-inverse"
    form_fields = ["version", *(f for f in CONTROL_FIELDS if f != "version")]
    list_display = ["code", "label", "severity", "enabled", "version"]
    list_filter = ["version", "severity", "enabled"]
    search_fields = ["code", "label"]
    search_backend_name = None

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(Control, form=_RuleForm, fields=self.form_fields)


class AggregateViewSet(ModelViewSet):
    model = Aggregate
    url_prefix = "formulaires/agregats"
    menu_label = "Agrégats"
    icon = "table"
    form_fields = ["version", *(f for f in AGGREGATE_FIELDS if f != "version")]
    list_display = ["code", "label", "tab", "version"]
    list_filter = ["version", "tab"]
    search_backend_name = None

    def get_form_class(self, for_update=False):
        return forms.modelform_factory(Aggregate, form=_AggregateForm, fields=self.form_fields)


class SubstepViewSet(ModelViewSet):
    model = FiabilisationStep
    url_prefix = "formulaires/sous-etapes"
    menu_label = "Sous-étapes de fiabilisation"
    icon = "list-ol"
    form_fields = ["code", "label", "position"]
    list_display = ["code", "label", "position"]


class FormsGroup(ModelViewSetGroup):
    menu_label = "Formulaires et contrôles"
    menu_icon = "form"
    menu_order = 260
    items = (FieldViewSet, ControlViewSet, AggregateViewSet, SubstepViewSet)


@hooks.register("register_admin_viewset")
def register_forms_viewsets():
    return FormsGroup()
