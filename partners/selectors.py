"""Which partners concern an organism's document, and what a partner user may read."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import Role
from forms_cms.models import DocumentType
from organisms.models import Partner
from organisms.selectors import partner_organisms, partners_of, user_partner
from partners.models import PartnerChoice, PartnerRule, Transmission
from workflow.models import Step


@dataclass(frozen=True)
class Concerned:
    """A partner concerned by an organism's document, with the rule that applies to it."""

    partner: Partner
    rule: PartnerRule
    chosen: bool  # the organism's tick (meaningful for "choice" rules only)

    @property
    def receives(self) -> bool:
        """Imposed, or left to choice and ticked; never forbidden."""
        if self.rule.mode == PartnerRule.Mode.IMPOSED:
            return True
        return self.rule.mode == PartnerRule.Mode.CHOICE and self.chosen


def partners_concerned(*, organism, document_type) -> list[Concerned]:
    """Every active partner a rule of this document type names for this organism: a rule on
    one partner overrides the rule of its kind; which partners concern the organism (a
    préfecture its département, a DREAL its region, a federation its members) is decided by
    ``organisms.selectors.partners_of``. Ordered by kind, then name."""
    rules = list(PartnerRule.objects.filter(document_type=document_type).select_related("partner"))
    if not rules:
        return []
    by_kind = {r.partner_kind: r for r in rules if r.partner_id is None}
    by_partner = {r.partner_id: r for r in rules if r.partner_id is not None}
    partners = Partner.objects.filter(partners_of(organism)).filter(
        Q(kind__in=by_kind) | Q(pk__in=by_partner)
    )
    chosen = set(
        PartnerChoice.objects.filter(
            organism=organism, document_type=document_type, chosen=True
        ).values_list("partner_id", flat=True)
    )
    out = []
    for partner in partners.order_by("kind", "name"):
        rule = by_partner.get(partner.pk) or by_kind.get(partner.kind)
        if rule is not None:
            out.append(Concerned(partner, rule, partner.pk in chosen))
    return out


def moment_codes(*, from_step: str, from_substep: str, to_step: str, to_substep: str) -> set[str]:
    """The moments (rule codes) a lifecycle event reaches: its step, and its sub-step while in
    step 4. Nothing when the dossier does not move (same step and sub-step)."""
    if (from_step, from_substep) == (to_step, to_substep):
        return set()
    codes = {to_step}
    if to_step == Step.FIABILISATION and to_substep:
        codes.add(to_substep)
    return codes


@dataclass(frozen=True)
class Recipient:
    """A partner that receives an organism's document (imposed, or left to choice and ticked),
    the moments its rule names, and whether the event asked about is one of them."""

    partner: Partner
    moments: tuple[str, ...]
    now: bool


def partners_receiving(*, organism, document_type, codes: set[str]) -> list[Recipient]:
    """Every partner the organism's document goes to automatically (imposed, or chosen; never
    forbidden or unchosen; its rule names moments) — ``now`` when one of its moments is in
    ``codes`` (what a lifecycle event reaches, :func:`moment_codes`). The one reading of who
    receives what: the automatic transmissions and the confirmation before « Transmettre »
    both ask it. Ordered by kind, then name."""
    return [
        Recipient(
            partner=c.partner,
            moments=tuple(c.rule.moments),
            now=bool(codes.intersection(c.rule.moments)),
        )
        for c in partners_concerned(organism=organism, document_type=document_type)
        if c.receives and c.rule.moments
    ]


def transmissions_visible_to(user) -> QuerySet[Transmission]:
    """A partner user: what was transmitted to its own partner, among the organisms that
    partner concerns (checked again here: a préfecture its département, a DREAL its region,
    a federation its members); nothing once the partner is deactivated. Anyone else:
    nothing."""
    transmissions = Transmission.objects.select_related(
        "dossier__organism", "dossier__campaign", "dossier__document_type", "partner"
    )
    if not user.is_authenticated or user.role != Role.PARTENAIRE:
        return transmissions.none()
    partner = user_partner(user)
    if partner is None:
        return transmissions.none()
    return transmissions.filter(partner=partner).filter(
        partner_organisms(partner, prefix="dossier__organism__")
    )


def partner_rules(partner: Partner) -> list[tuple]:
    """Per document type of the platform (in their order): the rule that applies to this
    partner — its own rule, else its kind's — or None (nothing goes to it)."""
    rules = PartnerRule.objects.filter(
        Q(partner=partner) | Q(partner__isnull=True, partner_kind=partner.kind)
    ).select_related("partner", "updated_by")
    applying: dict[int, PartnerRule] = {}
    for rule in rules:
        if rule.partner_id or rule.document_type_id not in applying:
            applying[rule.document_type_id] = rule
    return [(doc, applying.get(doc.pk)) for doc in DocumentType.objects.all()]
