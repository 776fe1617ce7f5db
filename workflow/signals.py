"""What the dossier's write gate (``workflow.actions``) tells the other apps.

Sent inside the action's transaction, after the write and its history rows; the receivers
(connected in each app's ``AppConfig.ready``) queue whatever leaves the database, so their
effects happen exactly when the change commits. The sender is ``Dossier``.

- ``dossier_values_changed``: ``dossier``, ``source`` (a ``ValueChange.Source``), ``names``
  (the input fields changed), ``acting_user``.
- ``dossier_step_changed``: ``dossier``, ``change`` (the ``StepChange`` row), ``acting_user``.
- ``dossiers_purge_counted``: ``dossier_ids`` about to be purged; each receiver returns a dict
  of what of its own goes with them (e.g. ``{"attachments": 3}``) for the purge's plan and log.
"""

from django.dispatch import Signal

dossier_values_changed = Signal()
dossier_step_changed = Signal()
dossiers_purge_counted = Signal()
