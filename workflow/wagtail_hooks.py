"""The workflow's part of the platform's Wagtail admin: the fiabilisation sub-steps'
read-only list (their one write path is the sub-steps screen, ``workflow.services.substeps``,
as forms_cms/wagtail_hooks.py explains for the forms' objects) and the administrative
actions in the platform's journal (Wagtail's log).
"""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from forms_cms.wagtail_hooks import ScreenEditedViewSet
from workflow.models import Campaign, FiabilisationStep


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


class CampaignLetterViewSet(ModelViewSet):
    """The campaign letters, written in the CMS with its rich text editor. Only the letter is
    edited here (a campaign is opened on its screen, ``workflow.services.campaign_open``);
    the edits are journalled by Wagtail. ``workflow.services.letters`` sends it."""

    model = Campaign
    name = "campaign_letters"
    form_fields = ["letter_subject", "letter"]
    url_prefix = "campagnes/lettres"
    menu_label = "Lettres de campagne"
    icon = "mail"
    menu_order = 262
    add_to_admin_menu = True
    copy_view_enabled = False
    inspect_view_enabled = False
    list_display = ["__str__", "opening_date", "deadline", "letter_sent_at"]

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        view_kwargs.update(add_url_name=None, delete_url_name=None)
        return view_kwargs

    def get_urlpatterns(self):
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("edit/<int:pk>/", self.edit_view, name="edit"),
            path("history/<int:pk>/", self.history_view, name="history"),
            path("history-results/<int:pk>/", self.history_results_view, name="history_results"),
            path("usage/<int:pk>/", self.usage_view, name="usage"),
        ]


@hooks.register("register_admin_viewset")
def register_campaign_letters_viewset():
    return CampaignLetterViewSet()


@hooks.register("register_log_actions")
def register_workflow_actions(actions):
    for action, label in (
        ("harmonia.campaign_opened", "Campagne ouverte"),
        ("harmonia.dossier_trial_opened", "Dossier d'essai ouvert sur une version en brouillon"),
        ("harmonia.substep_created", "Sous-étape de fiabilisation créée"),
        ("harmonia.substep_updated", "Sous-étape de fiabilisation modifiée"),
        ("harmonia.substep_deleted", "Sous-étape de fiabilisation supprimée"),
        ("harmonia.dossiers_purged", "Purge des dossiers anciens"),
        ("harmonia.campaign_reminders_set", "Relances automatiques de la campagne réglées"),
        ("harmonia.approval_entered", "Date d'approbation des comptes saisie"),
        ("harmonia.prorogation_recorded", "Prorogation enregistrée"),
        ("harmonia.note_added", "Annotation privée ajoutée"),
        ("harmonia.follow_up_set", "Dossier marqué « à suivre »"),
        ("harmonia.follow_up_unset", "Marque « à suivre » retirée"),
        ("harmonia.deadline_rule_saved", "Règle de date limite enregistrée"),
        ("harmonia.deadline_rule_deleted", "Règle de date limite supprimée"),
    ):
        actions.register_action(action, label, label)
