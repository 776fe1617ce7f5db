"""The declarations' administrative actions in the platform's journal (Wagtail's log)."""

from wagtail import hooks


@hooks.register("register_log_actions")
def register_declarations_actions(actions):
    for action, label in (
        ("harmonia.token_issued", "Jeton d'accès API créé"),
        ("harmonia.token_revoked", "Jeton d'accès API révoqué"),
        ("harmonia.tc_pair_created", "Paire du tronc commun ajoutée"),
        ("harmonia.tc_pair_deleted", "Paire du tronc commun supprimée"),
    ):
        actions.register_action(action, label, label)
