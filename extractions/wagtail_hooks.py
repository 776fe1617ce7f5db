"""Extractions in the platform's journal (Wagtail's log): who asked for which, who downloaded
it, when its file was deleted."""

from wagtail import hooks


@hooks.register("register_log_actions")
def register_extractions_actions(actions):
    for action, label in (
        ("harmonia.extraction_requested", "Extraction en masse demandée"),
        ("harmonia.extraction_downloaded", "Extraction en masse téléchargée"),
        ("harmonia.extraction_expired", "Extraction en masse supprimée (délai de conservation)"),
    ):
        actions.register_action(action, label, label)
