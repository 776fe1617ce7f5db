"""Who sees which dossiers: the dossier policy's rule, as a queryset."""

from workflow.policy import dossiers_visible_to

__all__ = ["dossiers_visible_to"]
