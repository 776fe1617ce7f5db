"""What a read token's user reads: the one place the API asks the permission rules.

A gestionnaire reads the dossiers the workflow policy lets it see (``dossiers_visible_to``)
and their values only as :class:`~workflow.policy.DossierPolicy` allows: never at steps 1–3,
the last transmitted snapshot while handed back (4R). A partner user reads only what was
transmitted to its partner (``partners.selectors.transmissions_visible_to``), as it was sent:
the values frozen in its latest transmission of each dossier (no deadline: it may follow an
approval date the organism typed after that sending); each of its reads is logged in
the partners' access log, refused ones too. A dossier this user may not read is answered as
one that does not exist (404), whatever the reason."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import Role
from forms_cms.models import DocumentType
from partners.models import AccessLog, Transmission
from partners.selectors import transmissions_visible_to
from partners.services import access_log_record
from workflow.models import Campaign, Dossier, FiabilisationStep, Step
from workflow.policy import DossierPolicy, dossiers_visible_to
from workflow.services.deadlines import deadlines_for

MSG_NO_CAMPAIGN = (
    "Aucune campagne de l'exercice {exercice} ne collecte le formulaire « {code} » sur cette "
    "plateforme : GET /api/v1/campagnes liste les campagnes et leurs formulaires."
)
MSG_NO_DOSSIER = (
    "Aucun dossier n° {pk} lisible avec ce jeton sur cette plateforme (un dossier n'est lisible "
    "par un gestionnaire qu'une fois transmis, par un partenaire que s'il lui a été transmis)."
)
STEP_LABELS = dict(Step.choices)


class NotReadable(Exception):
    """The dossier does not exist for this reader (French message)."""


@dataclass
class Row:
    """One dossier as the reader sees it in a list."""

    dossier: Dossier
    step: str
    substep_code: str
    sent_at: object  # datetime or None
    changed_at: object
    readable: bool
    deadline: object = None  # workflow.deadlines.Deadline


@dataclass
class Shown:
    """One dossier's values as the reader may read them."""

    row: Row
    dossier: Dossier  # the live one, or an unsaved copy carrying the transmitted values
    from_transmission: bool


def campaigns():
    return Campaign.objects.prefetch_related("document_types").order_by(
        "-exercise", "-opening_date"
    )


def campaign_document(exercice: int, code: str) -> tuple[Campaign, DocumentType]:
    """The campaign of ``exercice`` collecting the document ``code`` (the latest opened if
    several), or :class:`NotReadable` naming both."""
    campaign = (
        Campaign.objects.filter(exercise=exercice, document_types__code=code)
        .order_by("-opening_date", "-pk")
        .first()
    )
    document_type = DocumentType.objects.filter(code=code).first()
    if campaign is None or document_type is None:
        raise NotReadable(MSG_NO_CAMPAIGN.format(exercice=exercice, code=code))
    return campaign, document_type


class Reader:
    """``Reader.for_user(user, request)``: a gestionnaire's or a partner user's reading."""

    def __init__(self, user, request=None):
        self.user = user
        self.request = request

    @staticmethod
    def for_user(user, request=None) -> Reader:
        if user.role == Role.PARTENAIRE:
            return PartnerReader(user, request)
        if user.role == Role.GESTIONNAIRE:
            return GestionnaireReader(user, request)
        raise ValueError(f"No read API for the role {user.role!r}.")

    def page(self, campaign, document_type, *, limit: int, offset: int) -> tuple[int, list[Row]]:
        raise NotImplementedError

    def shown(self, pk: int, what: str) -> Shown:
        raise NotImplementedError

    @staticmethod
    def _with_deadlines(campaign, document_type, rows: list[Row]) -> list[Row]:
        found = deadlines_for(campaign, document_type, [r.dossier.organism for r in rows])
        for row in rows:
            row.deadline = found.get(row.dossier.organism_id)
        return rows


class GestionnaireReader(Reader):
    def _dossiers(self) -> QuerySet[Dossier]:
        return dossiers_visible_to(self.user)

    def _row(self, dossier: Dossier) -> Row:
        return Row(
            dossier=dossier,
            step=dossier.step,
            substep_code=dossier.substep.code if dossier.substep_id else "",
            sent_at=dossier.transmitted_at,
            changed_at=dossier.updated_at,
            readable=DossierPolicy(self.user, dossier).can_read_values,
        )

    def page(self, campaign, document_type, *, limit, offset):
        dossiers = self._dossiers().filter(campaign=campaign, document_type=document_type)
        total = dossiers.count()
        # a list reads no values: a full dossier's JSON is thousands of entries
        chosen = (
            dossiers.select_related(None)
            .select_related("organism", "campaign", "document_type", "substep")
            .defer("values", "computed")
            .order_by("organism__siren", "pk")[offset : offset + limit]
        )
        rows = [self._row(d) for d in chosen]
        return total, self._with_deadlines(campaign, document_type, rows)

    def shown(self, pk, what):
        dossier = self._dossiers().filter(pk=pk).first()
        policy = DossierPolicy(self.user, dossier) if dossier is not None else None
        if policy is None or not policy.can_read_values:
            raise NotReadable(MSG_NO_DOSSIER.format(pk=pk))
        (row,) = self._with_deadlines(dossier.campaign, dossier.document_type, [self._row(dossier)])
        return Shown(row, policy.readable(), from_transmission=policy.reads_snapshot)


class PartnerReader(Reader):
    def _transmissions(self) -> QuerySet[Transmission]:
        return transmissions_visible_to(self.user)

    def _log(self, what, transmission=None, granted=True):
        request = self.request
        access_log_record(
            user=self.user,
            what=what,
            transmission=transmission,
            granted=granted,
            path=request.get_full_path() if request else "",
            ip=request.META.get("REMOTE_ADDR") if request else None,
        )

    def _latest(self, transmissions) -> dict[int, Transmission]:
        """{dossier id: the latest of ``transmissions`` of that dossier}."""
        latest = (
            transmissions.select_related("step_change", "form_version__document_type")
            .order_by("dossier_id", "-sent_at", "-pk")
            .distinct("dossier_id")
        )
        return {t.dossier_id: t for t in latest}

    @staticmethod
    def _row(transmission: Transmission) -> Row:
        change = transmission.step_change
        return Row(
            dossier=transmission.dossier,
            step=change.to_step,
            substep_code=change.to_substep if change.to_step in SUBSTEP_STEPS else "",
            sent_at=transmission.sent_at,
            changed_at=transmission.sent_at,
            readable=True,
        )

    def page(self, campaign, document_type, *, limit, offset):
        sent = self._transmissions().filter(
            dossier__campaign=campaign, dossier__document_type=document_type
        )
        dossiers = Dossier.objects.filter(pk__in=sent.values("dossier_id"))
        total = dossiers.count()
        ids = list(
            dossiers.order_by("organism__siren", "pk").values_list("pk", flat=True)[
                offset : offset + limit
            ]
        )
        # a list reads no values: neither the dossiers' nor the transmissions' frozen ones
        latest = self._latest(
            sent.filter(dossier_id__in=ids).defer(
                "values", "computed", "dossier__values", "dossier__computed"
            )
        )
        rows = [self._row(latest[pk]) for pk in ids if pk in latest]
        self._log(AccessLog.What.LIST)
        return total, rows

    def shown(self, pk, what):
        transmission = self._latest(self._transmissions().filter(dossier_id=pk)).get(pk)
        log_as = AccessLog.What.XML if what == "xml" else AccessLog.What.VALUES
        if transmission is None:
            self._log(log_as, granted=False)
            raise NotReadable(MSG_NO_DOSSIER.format(pk=pk))
        self._log(log_as, transmission)
        dossier = transmission.dossier
        row = self._row(transmission)
        shown = copy.copy(dossier)
        shown.values = dict(transmission.values or {})
        shown.computed = dict(transmission.computed or {})
        shown.form_version = transmission.form_version
        shown.save = _never_saved
        return Shown(row, shown, from_transmission=True)


SUBSTEP_STEPS = (Step.FIABILISATION, Step.HANDED_BACK)


def substep_labels() -> dict[str, str]:
    return dict(FiabilisationStep.objects.values_list("code", "label"))


def _never_saved(*args, **kwargs):
    raise RuntimeError("A dossier read as transmitted to a partner is never saved.")
