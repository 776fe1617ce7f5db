"""Who may do what with a dossier: one object answers every "may this user…" question.

Views, the API, selectors, templates and exports ask a :class:`DossierPolicy` instead of
comparing roles and organisms themselves, so the confidentiality rule lives here only:

- Steps 1–3 belong to the organism (CCTP 2.2.4: « les trois premières étapes sont des étapes
  de travail interne à l'organisme, où seul l'organisme a accès aux données »). Before the
  first transmission a gestionnaire sees that the dossier exists, its step, dates, deadline
  and its exchange space — never its values nor anything computed from them (sheets,
  verification, aggregates, PDF, XML, value history, failing-controls count).
- From step 4 the gestionnaire reads the live dossier; while it is handed back to the
  organism (4R) the gestionnaire reads the last transmitted snapshot, not the work in
  progress.
- Partners read only what was transmitted to them, through the partners app (not here).
- A trial dossier (``Dossier.trial``: a draft form version tried on the platform's test
  organism) is the platform's gestionnaires' and editors' (``DRAFT_READERS``), who act on it
  as its organism would (entry, import, verification, PDF); nobody else sees it — not the
  test organism's own users, not partners — and no lifecycle action applies to it.
"""

from __future__ import annotations

import copy
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.models import Role
from forms_cms.selectors import DRAFT_READERS
from workflow.models import Dossier, DossierExport, Step

# the organism's internal steps: nobody but the organism reads the values
ORGANISM_STEPS = frozenset({Step.INITIALISED, Step.FILLING, Step.VALIDATED})
# steps in which a gestionnaire reads the live values
LIVE_FOR_GESTIONNAIRE = frozenset({Step.FIABILISATION, Step.FINALISED, Step.ARCHIVED})

# who fires each lifecycle action (the organism's own users, or the platform's gestionnaires)
ACTION_ROLES = {
    "validate": Role.ORGANISME,
    "reopen": Role.ORGANISME,
    "transmit": Role.ORGANISME,
    "retransmit": Role.ORGANISME,
    "move": Role.GESTIONNAIRE,
    "hand_back": Role.GESTIONNAIRE,
    "finalise": Role.GESTIONNAIRE,
    "archive": Role.GESTIONNAIRE,
}

MSG_INTERNAL = (
    "Ce dossier est à l'étape « {step} ». Les étapes 1 à 3 sont des étapes de travail "
    "interne à l'organisme : seul l'organisme a accès aux données. Vous pourrez consulter "
    "les valeurs, la vérification, le PDF et le XML quand il aura transmis son dossier ; "
    "d'ici là, vous voyez son étape, ses dates et son espace d'échange."
)
MSG_NOT_YOURS = "Ce dossier n'est pas celui de votre organisme."
MSG_ROLE = "Cette action est réservée {who}."
MSG_READ_ONLY = "Seul l'organisme du dossier peut le modifier."
MSG_TRIAL_ACTION = (
    "Ce dossier d'essai sert à tester une version en brouillon : il n'est ni validé, ni "
    "transmis, ni fiabilisé."
)


class ValuesHidden(PermissionDenied):
    """The user may know the dossier exists but not read its values (French message)."""


def values_visible_to_gestionnaires(step: str) -> bool:
    """Whether the platform's gestionnaires read a dossier's live values at ``step``."""
    return step in LIVE_FOR_GESTIONNAIRE


def last_transmission(dossier: Dossier) -> DossierExport | None:
    """The XML snapshot of the dossier's latest transmission (frozen values), or None."""
    return (
        DossierExport.objects.filter(
            dossier=dossier, kind=DossierExport.Kind.XML, step_change__isnull=False
        )
        .defer("content")
        .order_by("-requested_at", "-pk")
        .first()
    )


class DossierPolicy:
    """``DossierPolicy(user, dossier)``: what ``user`` may do with ``dossier`` now."""

    def __init__(self, user, dossier: Dossier):
        self.user = user
        self.dossier = dossier

    # --- who the user is to this dossier --------------------------------------------------
    @cached_property
    def _active(self) -> bool:
        return bool(getattr(self.user, "is_authenticated", False) and self.user.is_active)

    @cached_property
    def is_trial_tester(self) -> bool:
        """A gestionnaire or editor of the platform, for a trial dossier."""
        return self.dossier.trial and self._active and self.user.role in DRAFT_READERS

    @cached_property
    def is_owner(self) -> bool:
        """An organisme user bound to the dossier's organism; for a trial dossier, the
        platform's gestionnaires and editors who try the draft (and nobody else)."""
        if self.dossier.trial:
            return self.is_trial_tester
        if not self._active or self.user.role != Role.ORGANISME:
            return False
        membership = getattr(self.user, "membership", None)
        return membership is not None and membership.organism_id == self.dossier.organism_id

    @cached_property
    def is_gestionnaire(self) -> bool:
        """A gestionnaire reading the organism's dossier (not a trial, which it owns)."""
        return not self.dossier.trial and self._active and self.user.role == Role.GESTIONNAIRE

    # --- reading ----------------------------------------------------------------------------
    @property
    def can_see(self) -> bool:
        """Know the dossier exists: its step, dates, deadline, lifecycle journal."""
        return self.is_owner or self.is_gestionnaire

    @property
    def can_use_exchange(self) -> bool:
        """Read and write the dossier's exchange space (at every step)."""
        return self.can_see

    @property
    def can_read_values(self) -> bool:
        """Read the values or anything derived from them (sheets, verification, PDF, XML,
        history, failing-controls count) — live or, for ``reads_snapshot``, as transmitted."""
        if self.is_owner:
            return True
        return self.is_gestionnaire and self.dossier.step not in ORGANISM_STEPS

    @property
    def reads_snapshot(self) -> bool:
        """The user reads the last transmitted values instead of the live ones (4R)."""
        return not self.is_owner and self.is_gestionnaire and self.dossier.step == Step.HANDED_BACK

    @property
    def can_read_live_derived(self) -> bool:
        """Read what is derived from the live values (the failing-controls count)."""
        return self.is_owner or (
            self.is_gestionnaire and values_visible_to_gestionnaires(self.dossier.step)
        )

    def require_owner(self) -> None:
        """Raise PermissionDenied unless the user is one of the dossier's organism's users."""
        if not self.is_owner:
            raise PermissionDenied(MSG_NOT_YOURS)

    def require_values(self) -> None:
        """Raise :class:`ValuesHidden` (with its French explanation) unless the user may read
        the values."""
        if self.can_read_values:
            return
        if self.is_gestionnaire:
            raise ValuesHidden(MSG_INTERNAL.format(step=self.dossier.get_step_display()))
        raise PermissionDenied(MSG_NOT_YOURS)

    def readable(self) -> Dossier:
        """The dossier as this user reads it: the live one, or (4R for a gestionnaire) an
        unsaved copy carrying the values of the last transmission. Raises if hidden."""
        self.require_values()
        if not self.reads_snapshot:
            return self.dossier
        snapshot = last_transmission(self.dossier)
        shown = copy.copy(self.dossier)
        shown.values = dict(snapshot.frozen_values or {}) if snapshot else {}
        shown.computed = dict(snapshot.frozen_computed or {}) if snapshot else {}
        shown.failing_checks = {}  # the live values' verdicts: the controls run on these
        shown.save = _never_saved  # a read-only view of the past: writing it is a bug
        shown.snapshot = snapshot
        return shown

    def can_read_export(self, export: DossierExport) -> bool:
        """Download a generated document: a transmission snapshot (made from transmitted
        values) by anyone who sees the dossier; another export by its organism, or by the
        person who asked for it while allowed to read the values."""
        if self.is_owner:
            return True
        if not self.is_gestionnaire:
            return False
        if export.step_change_id is not None:
            return True
        return export.requested_by_id == self.user.pk and self.can_read_values

    # --- writing ----------------------------------------------------------------------------
    @property
    def can_edit(self) -> bool:
        """Enter, import or synchronise values (the organism, in its steps or handed back)."""
        return self.is_owner and self.dossier.accepts_entries

    def transition_refusal(self, action: str) -> str | None:
        """Why the user may not fire ``action`` (French), or None when the role allows it
        (the step and conditions are the lifecycle service's to check)."""
        role = ACTION_ROLES.get(action)
        if role is None:
            return None
        if self.dossier.trial:
            return MSG_TRIAL_ACTION
        if role == Role.ORGANISME:
            if self._active and self.user.role == Role.ORGANISME and not self.is_owner:
                return MSG_NOT_YOURS
            return None if self.is_owner else MSG_ROLE.format(who="à l'organisme")
        return None if self.is_gestionnaire else MSG_ROLE.format(who="aux gestionnaires")

    def can_transition(self, action: str) -> bool:
        return action in ACTION_ROLES and self.transition_refusal(action) is None


def _never_saved(*args, **kwargs):
    raise RuntimeError("A dossier read from its transmitted snapshot is never saved.")


def dossiers_visible_to(user, *, trials: bool = False) -> QuerySet[Dossier]:
    """The dossiers whose existence ``user`` may know — :attr:`DossierPolicy.can_see` as a
    queryset: organisme users their organism's; gestionnaires all (their values only as the
    policy allows); nobody else (partners read what was transmitted to them, in their app).
    Lists never hold trial dossiers; ``trials=True`` (the dossier screens, one dossier by its
    number) adds them for the platform's gestionnaires and editors."""
    related = ("organism", "campaign", "document_type", "form_version", "substep")
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return Dossier.objects.none()
    if trials and user.role in DRAFT_READERS:
        everything = Dossier.all_objects.select_related(*related)
        if user.role == Role.GESTIONNAIRE:
            return everything
        return everything.filter(trial=True)
    dossiers = Dossier.objects.select_related(*related)
    if user.role == Role.GESTIONNAIRE:
        return dossiers
    membership = getattr(user, "membership", None)
    if user.role == Role.ORGANISME and membership is not None and membership.organism_id:
        return dossiers.filter(organism_id=membership.organism_id)
    return dossiers.none()


def acts_for_organism(user, organism_id: int) -> bool:
    """Whether ``user`` may see and state an organism's deadline facts (its deadlines, the
    approval of its accounts): its own organisme users and the platform's gestionnaires —
    :attr:`DossierPolicy.can_see` for an organism that may have no dossier yet."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.role == Role.GESTIONNAIRE:
        return True
    membership = getattr(user, "membership", None)
    return (
        user.role == Role.ORGANISME
        and membership is not None
        and membership.organism_id == organism_id
    )
