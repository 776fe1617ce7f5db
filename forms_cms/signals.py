"""What a form version's managed objects tell the rest of the platform when they change.

Sent by the services only (``forms_cms.controls``, ``forms_cms.services.fields``), once the
change is committed: a receiver never sees a change that was then rolled back or refused.
Both carry ``version`` (the :class:`~forms_cms.models.FormVersion` changed); the sender is
``FormVersion``.

- ``version_rules_changed``: a control or an aggregate was created, edited, enabled, disabled
  or deleted, or the previous version's rules were carried over — dossiers' failing-controls
  counts may be stale.
- ``version_fields_changed``: a field's label, required or common flag was edited.
- ``version_uploaded``: a new version was stored — sent *inside* the upload's transaction
  (receivers queue what they send: the second opinion only if it commits); ``draft``
  versions are uploaded too.
- ``version_published``: a version went live — sent inside the transaction that published it
  (at its upload, after ``version_uploaded``, or later from a draft): the editors' subscribers
  hear of it then, never of a draft.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.dispatch import Signal
from django_tenants.utils import schema_context

from forms_cms.models import FormVersion

version_rules_changed = Signal()
version_fields_changed = Signal()
version_uploaded = Signal()
version_published = Signal()


def send_on_commit(signal: Signal, version: FormVersion) -> None:
    """Send ``signal`` for ``version`` after the current transaction commits.

    The callback runs inside the schema it was registered in: version ids are only unique
    within one platform, and the caller may have left its ``schema_context`` by the time the
    outermost transaction commits."""
    schema = connection.schema_name

    def send() -> None:
        with schema_context(schema):
            signal.send(sender=FormVersion, version=version)

    transaction.on_commit(send)
