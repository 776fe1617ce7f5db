"""Deadlines as the database holds their facts: the rules, the approvals of the accounts, the
prorogations; and the two writes on them (an approval date, a prorogation), journaled.

Reads are batched (:func:`deadlines_for` answers for every organism of a workspace in four
queries); the arithmetic is :func:`workflow.deadlines.compute`.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, When
from django.db.models.fields.json import KeyTransform
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from wagtail.log_actions import log

from accounts.models import Role
from tenants.links import absolute_url
from tenants.tasks import queue_email
from workflow import deadlines
from workflow.deadlines import Deadline
from workflow.models import AccountsApproval, DeadlineRule, Dossier, Prorogation
from workflow.policy import acts_for_organism
from workflow.services.recipients import recipients_of

MSG_APPROVAL_NOT_YOURS = (
    "Seuls les utilisateurs de l'organisme et les gestionnaires de la plateforme peuvent "
    "saisir la date d'approbation de ses comptes."
)
MSG_APPROVAL_FUTURE = "La date d'approbation ({day}) est dans le futur : saisissez la date passée."
MSG_APPROVAL_BEFORE_CLOSING = (
    "La date d'approbation ({day}) précède la clôture de l'exercice {exercise} ({closing}) : "
    "des comptes s'approuvent après leur clôture."
)
MSG_PROROGATION_ROLE = "Seul un gestionnaire de la plateforme enregistre une prorogation."
MSG_PROROGATION_EARLIER = (
    "La nouvelle date ({new}) n'est pas postérieure à la date limite actuelle ({current}) : une "
    "prorogation repousse la date limite."
)
MSG_DECISION_FUTURE = "La décision ({day}) est datée dans le futur : saisissez sa date."
MSG_DECISION_ELSEWHERE = (
    "Ce document n'est pas dans l'espace d'échange de ce dossier : déposez-y la décision "
    "puis choisissez-la."
)
MSG_TRANSMITTED = "Ce dossier est déjà transmis : il n'y a plus de date limite à repousser."


def _french(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def rule_for(rules, organism) -> DeadlineRule | None:
    """The most precise rule of ``rules`` (one document's) for ``organism``: its family and
    accounting regime, else its family."""
    matching = [r for r in rules if r.applies_to(organism)]
    matching.sort(key=lambda r: 0 if r.accounting else 1)
    return matching[0] if matching else None


# up to this many organisms, their rows are asked for by id
FEW = 50


def deadlines_for(campaign, document_type, organisms, dossiers=None) -> dict[int, Deadline]:
    """{organism id: its deadline} for one campaign's document; ``dossiers`` (the campaign's
    for that document, already read, or None to read them when a rule takes the approval
    from a form field)."""
    organisms = list(organisms)
    # a dossier's page or a short list names its organisms; a workspace reads the exercise's
    # rows (a few hundred: cheaper than binding ~800 ids, which psycopg splits one by one)
    ids = [o.pk for o in organisms] if len(organisms) <= FEW else None
    rules = list(DeadlineRule.objects.filter(document_type=document_type))
    approvals = AccountsApproval.objects.filter(exercise=campaign.exercise)
    prorogations = Prorogation.objects.filter(campaign=campaign, document_type=document_type)
    if ids is not None:
        approvals = approvals.filter(organism_id__in=ids)
        prorogations = prorogations.filter(organism_id__in=ids)
    approvals = dict(approvals.values_list("organism_id", "approved_on"))
    latest = {}
    for organism_id, day in prorogations.order_by("organism_id", "-recorded_at", "-pk").values_list(
        "organism_id", "new_deadline"
    ):
        latest.setdefault(organism_id, day)
    prorogations = latest
    # only these organisms' dossiers: one dossier's page reads one value, not the campaign's
    from_fields = _approvals_from_fields(campaign, document_type, rules, approvals, ids)
    result = {}
    for organism in organisms:
        rule = rule_for(rules, organism)
        approved_on = approvals.get(organism.pk) or from_fields.get(organism.pk)
        result[organism.pk] = _compute(rule, organism, campaign, approved_on, prorogations)
    return result


def _compute(rule, organism, campaign, approved_on, prorogations) -> Deadline:
    return deadlines.compute(
        kind=rule.kind if rule else deadlines.CAMPAIGN,
        exercise=campaign.exercise,
        closing=organism.closing,
        campaign_deadline=campaign.deadline,
        param=rule.day if rule else "",
        days=rule.days if rule else 0,
        approved_on=approved_on,
        capped=rule.capped if rule else False,
        prorogation=prorogations.get(organism.pk),
    )


def _approvals_from_fields(campaign, document_type, rules, entered, organism_ids=None) -> dict:
    """{organism id: approval date} read from the designated form field of the dossiers
    (where the rule names one; the caller prefers a date ``entered`` on the platform, which
    a few organisms' read leaves out)."""
    found = {}
    for field in {r.approval_field for r in rules if r.approval_field}:
        dossiers = Dossier.objects.filter(campaign=campaign, document_type=document_type)
        if organism_ids is not None:
            dossiers = dossiers.filter(organism_id__in=organism_ids).exclude(
                organism_id__in=list(entered)
            )
        rows = dossiers.annotate(approval=KeyTransform(field, "values")).values_list(
            "organism_id", "approval"
        )
        for organism_id, value in rows:
            day = deadlines.serial_to_date(value)
            if day is not None:
                found.setdefault(organism_id, day)
    return found


def decision_choices(dossier):
    """The attachments of ``dossier``'s exchange space a prorogation may name as its decision
    (decisions of prorogation first), newest first; none without a dossier."""
    attachments = Prorogation._meta.get_field("decision").related_model.objects
    if dossier is None:
        return attachments.none()
    return (
        attachments.filter(message__dossier=dossier)
        .defer("content")
        .order_by(Case(When(kind="prorogation", then=0), default=1), "-pk")
    )


def deadlines_of_organism(organism, pairs) -> dict[tuple[int, int], Deadline]:
    """{(campaign id, document type id): deadline} of one organism for several campaigns'
    documents (its list of offers), in three queries whatever their number (a rule taking
    the approval from a form field adds its own)."""
    pairs = list(pairs)
    if not pairs:
        return {}
    rules = {}
    for rule in DeadlineRule.objects.filter(document_type__in={d.pk for _, d in pairs}):
        rules.setdefault(rule.document_type_id, []).append(rule)
    approvals = dict(
        AccountsApproval.objects.filter(organism=organism).values_list("exercise", "approved_on")
    )
    prorogations = {}
    for key_campaign, key_document, day in (
        Prorogation.objects.filter(organism=organism)
        .order_by("-recorded_at", "-pk")
        .values_list("campaign_id", "document_type_id", "new_deadline")
    ):
        prorogations.setdefault((key_campaign, key_document), day)
    result = {}
    for campaign, document_type in pairs:
        document_rules = rules.get(document_type.pk, [])
        approved_on = approvals.get(campaign.exercise)
        if approved_on is None and any(r.approval_field for r in document_rules):
            approved_on = _approvals_from_fields(
                campaign, document_type, document_rules, {}, organism_ids=[organism.pk]
            ).get(organism.pk)
        prorogation = prorogations.get((campaign.pk, document_type.pk))
        result[(campaign.pk, document_type.pk)] = _compute(
            rule_for(document_rules, organism),
            organism,
            campaign,
            approved_on,
            {organism.pk: prorogation} if prorogation else {},
        )
    return result


def deadline_for(campaign, document_type, organism) -> Deadline:
    """One organism's deadline for one campaign's document."""
    return deadlines_for(campaign, document_type, [organism])[organism.pk]


def is_late(deadline: Deadline, dossier, required: bool, today=None) -> bool:
    """Past its deadline and never transmitted; a document filed voluntarily is never late."""
    today = today or timezone.localdate()
    transmitted = dossier is not None and dossier.transmitted_at is not None
    effective = deadline.effective
    return required and not transmitted and effective is not None and effective < today


def approval_record(*, organism, exercise: int, approved_on: datetime.date, acting_user):
    """Enter (or correct) the day the accounts of ``exercise`` were approved."""
    if not acts_for_organism(acting_user, organism.pk):
        raise PermissionDenied(MSG_APPROVAL_NOT_YOURS)
    if approved_on > timezone.localdate():
        raise ValidationError({"approved_on": MSG_APPROVAL_FUTURE.format(day=_french(approved_on))})
    closing = deadlines.closing_date(organism.closing, exercise)
    if approved_on <= closing:
        raise ValidationError(
            {
                "approved_on": MSG_APPROVAL_BEFORE_CLOSING.format(
                    day=_french(approved_on), exercise=exercise, closing=_french(closing)
                )
            }
        )
    with transaction.atomic():
        approval, created = AccountsApproval.objects.update_or_create(
            organism=organism,
            exercise=exercise,
            defaults={"approved_on": approved_on, "entered_by": acting_user},
        )
        log(
            instance=approval,
            action="harmonia.approval_entered",
            user=acting_user,
            data={"organism": organism.siren, "exercise": exercise, "approved_on": approved_on},
        )
    return approval


def prorogation_record(
    *,
    organism,
    campaign,
    document_type,
    decided_on: datetime.date,
    new_deadline: datetime.date,
    acting_user,
    decision=None,
    comment: str = "",
) -> Prorogation:
    """Record a prorogation decision: the organism's deadline becomes ``new_deadline``.

    ``decision`` is an attachment of the dossier's exchange space (or None)."""
    if acting_user.role != Role.GESTIONNAIRE or not acts_for_organism(acting_user, organism.pk):
        raise PermissionDenied(MSG_PROROGATION_ROLE)
    dossier = Dossier.objects.filter(
        organism=organism, campaign=campaign, document_type=document_type
    ).first()
    if dossier is not None and dossier.transmitted_at is not None:
        raise ValidationError(MSG_TRANSMITTED)
    if decided_on > timezone.localdate():
        raise ValidationError({"decided_on": MSG_DECISION_FUTURE.format(day=_french(decided_on))})
    current = deadline_for(campaign, document_type, organism).effective
    if current is not None and new_deadline <= current:
        raise ValidationError(
            {
                "new_deadline": MSG_PROROGATION_EARLIER.format(
                    new=_french(new_deadline), current=_french(current)
                )
            }
        )
    if decision is not None and (dossier is None or decision.message.dossier_id != dossier.pk):
        raise ValidationError({"decision": MSG_DECISION_ELSEWHERE})
    with transaction.atomic():
        prorogation = Prorogation.objects.create(
            organism=organism,
            campaign=campaign,
            document_type=document_type,
            decided_on=decided_on,
            new_deadline=new_deadline,
            previous_deadline=current,
            decision=decision,
            decision_name=decision.filename if decision is not None else "",
            comment=comment,
            recorded_by=acting_user,
        )
        _prorogation_notify(prorogation)
        log(
            instance=prorogation,
            action="harmonia.prorogation_recorded",
            user=acting_user,
            data={
                "organism": organism.siren,
                "document": document_type.code,
                "exercise": campaign.exercise,
                "decided_on": decided_on,
                "previous_deadline": current,
                "new_deadline": new_deadline,
                "decision": prorogation.decision_name,
            },
        )
    return prorogation


# --- the rules, as the gestionnaires set them ---------------------------------------------------
RULE_FIELDS = (
    "document_type",
    "family",
    "accounting",
    "kind",
    "day",
    "days",
    "capped",
    "approval_field",
)
MSG_RULES_ROLE = "Seul un gestionnaire de la plateforme fixe les règles de date limite."
MSG_DAY_NEEDED = "Une date fixe demande le jour et le mois (jj/mm), par exemple 15/07."
MSG_DAYS_NEEDED = "Indiquez le nombre de jours après l'approbation des comptes (1 ou plus)."
MSG_ACCOUNTING_OPH = "Le régime comptable ne se précise que pour les OPH."
MSG_RULE_TWICE = (
    "Une règle existe déjà pour ce document, cette famille et ce régime : modifiez-la plutôt."
)


def _rules_gestionnaire(acting_user) -> None:
    if getattr(acting_user, "role", None) != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_RULES_ROLE)


def _rule_check(rule: DeadlineRule) -> None:
    errors = {}
    if rule.kind == deadlines.FIXED and not rule.day:
        errors["day"] = MSG_DAY_NEEDED
    if rule.kind == deadlines.AFTER_APPROVAL and not rule.days:
        errors["days"] = MSG_DAYS_NEEDED
    if rule.accounting and rule.family != "OPH":
        errors["accounting"] = MSG_ACCOUNTING_OPH
    duplicate = DeadlineRule.objects.filter(
        document_type_id=rule.document_type_id, family=rule.family, accounting=rule.accounting
    ).exclude(pk=rule.pk)
    if duplicate.exists():
        errors["family"] = MSG_RULE_TWICE
    if errors:
        raise ValidationError(errors)
    if rule.kind != deadlines.FIXED:
        rule.day = ""
    if rule.kind != deadlines.AFTER_APPROVAL:
        rule.days = 0
    rule.full_clean(validate_unique=False)


def deadline_rule_save(*, values: dict, acting_user, rule: DeadlineRule | None = None):
    """Create or change a rule; raises ValidationError (with the field) and saves nothing."""
    _rules_gestionnaire(acting_user)
    rule = rule or DeadlineRule()
    for name in RULE_FIELDS:
        if name in values:
            setattr(rule, name, values[name])
    rule.updated_by = acting_user
    _rule_check(rule)
    with transaction.atomic():
        rule.save()
        log(
            instance=rule,
            action="harmonia.deadline_rule_saved",
            user=acting_user,
            data={"rule": str(rule), "day": rule.day, "days": rule.days, "capped": rule.capped},
        )
    return rule


def deadline_rule_delete(*, rule: DeadlineRule, acting_user) -> None:
    _rules_gestionnaire(acting_user)
    with transaction.atomic():
        log(
            instance=rule,
            action="harmonia.deadline_rule_deleted",
            user=acting_user,
            data={"rule": str(rule)},
            deleted=True,
        )
        rule.delete()


def _prorogation_notify(prorogation: Prorogation) -> None:
    """Tell the organism's users their new deadline (queued in the recording transaction)."""
    context = {"prorogation": prorogation, "url": absolute_url(reverse("declarations:list"))}
    subject = " ".join(
        loader.render_to_string("workflow/email/prorogation_subject.txt", context).split()
    )
    body = loader.render_to_string("workflow/email/prorogation.txt", context)
    for address in recipients_of([prorogation.organism_id]).get(prorogation.organism_id, []):
        queue_email(subject=subject, body=body, to=[address])
