"""The partners' administrative actions in the platform's journal (Wagtail's log)."""

from wagtail import hooks


@hooks.register("register_log_actions")
def register_partners_actions(actions):
    for action, label in (
        ("harmonia.partner_rule_created", "Règle de transmission aux partenaires créée"),
        ("harmonia.partner_rule_updated", "Règle de transmission aux partenaires modifiée"),
        ("harmonia.partner_rule_deleted", "Règle de transmission aux partenaires supprimée"),
        ("harmonia.partner_choices_saved", "Choix des partenaires de l'organisme enregistrés"),
        ("harmonia.partner_created", "Partenaire créé"),
        ("harmonia.partner_updated", "Partenaire modifié"),
        ("harmonia.partner_deactivated", "Partenaire désactivé"),
        ("harmonia.partner_activated", "Partenaire réactivé"),
    ):
        actions.register_action(action, label, label)
