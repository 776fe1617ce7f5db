"""The workflow's part of the platform's Wagtail admin: the fiabilisation sub-steps'
read-only list (their one write path is the sub-steps screen, ``workflow.services.substeps``,
as forms_cms/wagtail_hooks.py explains for the forms' objects) and the administrative
actions in the platform's journal (Wagtail's log).
"""

from django.urls import reverse
from wagtail import hooks

from forms_cms.wagtail_hooks import ScreenEditedViewSet
from workflow.models import FiabilisationStep


class SubstepViewSet(ScreenEditedViewSet):
    model = FiabilisationStep
    url_prefix = "formulaires/sous-etapes"
    menu_label = "Sous-étapes de fiabilisation"
    icon = "list-ol"
    menu_order = 261
    add_to_admin_menu = True  # registered alone, not in the forms group
    list_display = ["code", "label", "position"]
    screen_add_url_name = "workflow:substeps"

    def screen_url(self, instance):
        return reverse("workflow:substep_edit", args=[instance.pk])


@hooks.register("register_admin_viewset")
def register_substeps_viewset():
    return SubstepViewSet()


@hooks.register("register_log_actions")
def register_workflow_actions(actions):
    for action, label in (
        ("harmonia.campaign_opened", "Campagne ouverte"),
        ("harmonia.substep_created", "Sous-étape de fiabilisation créée"),
        ("harmonia.substep_updated", "Sous-étape de fiabilisation modifiée"),
        ("harmonia.substep_deleted", "Sous-étape de fiabilisation supprimée"),
        ("harmonia.dossiers_purged", "Purge des dossiers anciens"),
        ("harmonia.approval_entered", "Date d'approbation des comptes saisie"),
        ("harmonia.prorogation_recorded", "Prorogation enregistrée"),
        ("harmonia.note_added", "Annotation privée ajoutée"),
        ("harmonia.follow_up_set", "Dossier marqué « à suivre »"),
        ("harmonia.follow_up_unset", "Marque « à suivre » retirée"),
        ("harmonia.deadline_rule_saved", "Règle de date limite enregistrée"),
        ("harmonia.deadline_rule_deleted", "Règle de date limite supprimée"),
    ):
        actions.register_action(action, label, label)
