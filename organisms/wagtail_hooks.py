"""The accounts' and the registry's administrative actions in the platform's journal
(Wagtail's log, shown in /cms/reports/site-history/)."""

from wagtail import hooks


@hooks.register("register_log_actions")
def register_organisms_actions(actions):
    for action, label in (
        ("harmonia.account_created", "Compte créé"),
        ("harmonia.account_activated", "Compte réactivé"),
        ("harmonia.account_deactivated", "Compte désactivé"),
        ("harmonia.registry_imported", "Référentiel des organismes importé"),
        ("harmonia.organism_facts_updated", "Données d'un organisme corrigées"),
    ):
        actions.register_action(action, label, label)
