"""The workflow's administrative actions in the platform's journal (Wagtail's log).

The sub-steps' read-only admin views live with the forms' in forms_cms/wagtail_hooks.py (one
menu group); their writes go through ``workflow.services.substeps``.
"""

from wagtail import hooks


@hooks.register("register_log_actions")
def register_workflow_actions(actions):
    for action, label in (
        ("harmonia.campaign_opened", "Campagne ouverte"),
        ("harmonia.substep_created", "Sous-étape de fiabilisation créée"),
        ("harmonia.substep_updated", "Sous-étape de fiabilisation modifiée"),
        ("harmonia.substep_deleted", "Sous-étape de fiabilisation supprimée"),
        ("harmonia.dossiers_purged", "Purge des dossiers anciens"),
    ):
        actions.register_action(action, label, label)
