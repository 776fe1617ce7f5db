"""Partners: default rules, rules edited by gestionnaires, the organism's choices, automatic
transmissions at the configured lifecycle events, and the access log."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from harmonia import environment
from wagtail.log_actions import log

from accounts.models import Role, User
from forms_cms.models import DocumentType
from organisms.models import FEDERATION_CHOICES, Partner
from organisms.regions import REGIONS
from organisms.services.memberships import current_platform
from organisms.siren import DEPARTEMENTS
from partners.models import AccessLog, PartnerChoice, PartnerRule, Transmission
from partners.selectors import moment_codes, partners_concerned, partners_receiving
from tenants.links import absolute_url
from tenants.models import SecurityEvent
from tenants.security_events import security_event_record
from tenants.tasks import queue_email
from workflow.models import DossierExport, FiabilisationStep, Step

logger = logging.getLogger(__name__)

# the national partners the ministry's default rules name (the demo uses the same names)
NATIONAL_PARTNERS = (
    (Partner.Kind.CDC, "Caisse des dépôts"),
    (Partner.Kind.CGLLS, "CGLLS"),
    (Partner.Kind.ANCOLS, "ANCOLS"),
)
DEFAULT_DOCUMENT_TYPE = "ER_SOCIAUX"
DEFAULT_MOMENTS = "4.1,4.8,6"
# (kind, mode) of the ministry platform's default rules for DEFAULT_DOCUMENT_TYPE
DEFAULT_RULES = (
    (Partner.Kind.CDC, PartnerRule.Mode.IMPOSED),
    (Partner.Kind.CGLLS, PartnerRule.Mode.IMPOSED),
    (Partner.Kind.ANCOLS, PartnerRule.Mode.IMPOSED),
    (Partner.Kind.PREFECTURE, PartnerRule.Mode.CHOICE),
    (Partner.Kind.FEDERATION, PartnerRule.Mode.CHOICE),
)

MSG_KIND_MISMATCH = "Ce partenaire n'est pas du type choisi ({kind})."
MSG_DUPLICATE_KIND = "Une règle existe déjà pour ce type de document et ce type de partenaire."
MSG_DUPLICATE_PARTNER = "Une règle existe déjà pour ce type de document et ce partenaire."
MSG_UNKNOWN_MOMENT = (
    "« {code} » n'est ni une sous-étape ({substeps}) ni une étape ({steps}). "
    "Séparez les codes par des virgules, par exemple 4.1, 4.8, 6."
)
MSG_NOT_YOUR_ORGANISM = "Seuls les comptes de l'organisme choisissent ses partenaires."
MSG_NOT_A_CHOICE = "Le partenaire {partner} n'est pas au choix de l'organisme pour ce document."


def partners_defaults() -> int:
    """The ministry platform's defaults, in the current schema: the national partners, then —
    only while no rule exists, so a gestionnaire's edits are never undone — CDC, CGLLS and
    ANCOLS imposed for the ER sociaux, sent at 4.1, 4.8 and step 6; the préfecture of the
    organism's département and the federations left to the organism's choice, sent at the
    same moments. Returns the number of rules created."""

    for kind, name in NATIONAL_PARTNERS:
        if not Partner.objects.filter(kind=kind).exists():
            Partner.objects.get_or_create(name=name, defaults={"kind": kind})
    document_type = DocumentType.objects.filter(code=DEFAULT_DOCUMENT_TYPE).first()
    if document_type is None or PartnerRule.objects.exists():
        return 0
    created = PartnerRule.objects.bulk_create(
        PartnerRule(
            document_type=document_type, partner_kind=kind, mode=mode, transmit_at=DEFAULT_MOMENTS
        )
        for kind, mode in DEFAULT_RULES
    )
    return len(created)


# --- rules (gestionnaires) -------------------------------------------------------------------


def transmit_at_clean(text: str) -> str:
    """Normalise "4.1; 4.8 , 6" to "4.1,4.8,6"; refuse a code that is neither a sub-step of
    this platform nor a step."""

    substeps = list(FiabilisationStep.objects.values_list("code", flat=True))
    steps = [s.value for s in Step]
    codes: list[str] = []
    for code in text.replace(";", ",").split(","):
        code = code.strip().upper()
        if not code:
            continue
        if code not in substeps and code not in steps:
            raise ValidationError(
                {
                    "transmit_at": MSG_UNKNOWN_MOMENT.format(
                        code=code, substeps=", ".join(substeps), steps=", ".join(steps)
                    )
                }
            )
        if code not in codes:
            codes.append(code)
    return ",".join(codes)


def _rule_check(rule: PartnerRule) -> None:
    if rule.partner_id and rule.partner.kind != rule.partner_kind:
        raise ValidationError(
            {"partner": MSG_KIND_MISMATCH.format(kind=rule.get_partner_kind_display())}
        )
    rule.transmit_at = transmit_at_clean(rule.transmit_at)
    others = PartnerRule.objects.filter(document_type=rule.document_type).exclude(pk=rule.pk)
    if (
        rule.partner_id is None
        and others.filter(partner__isnull=True, partner_kind=rule.partner_kind).exists()
    ):
        raise ValidationError(MSG_DUPLICATE_KIND)
    if rule.partner_id and others.filter(partner_id=rule.partner_id).exists():
        raise ValidationError(MSG_DUPLICATE_PARTNER)


def _rule_journal(rule: PartnerRule) -> dict:
    """What the administrative journal keeps of a rule: its document, partner, mode, moments."""
    return {
        "document_type": rule.document_type.code,
        "partner_kind": rule.partner_kind,
        "partner": rule.partner.name if rule.partner_id else None,
        "mode": rule.mode,
        "transmit_at": rule.transmit_at,
    }


def _check_gestionnaire(user) -> None:
    if user.role != Role.GESTIONNAIRE:
        raise PermissionDenied("Les règles des partenaires sont réservées aux gestionnaires.")


@transaction.atomic
def partner_rule_create(
    *, document_type, partner_kind: str, mode: str, transmit_at: str = "", partner=None,
    acting_user,
) -> PartnerRule:  # fmt: skip
    _check_gestionnaire(acting_user)
    rule = PartnerRule(
        document_type=document_type,
        partner_kind=partner_kind,
        partner=partner,
        mode=mode,
        transmit_at=transmit_at,
        updated_by=acting_user,
    )
    _rule_check(rule)
    rule.save()
    log(
        instance=rule,
        action="harmonia.partner_rule_created",
        user=acting_user,
        data=_rule_journal(rule),
    )
    return rule


@transaction.atomic
def partner_rule_update(*, rule: PartnerRule, acting_user, **fields) -> PartnerRule:
    _check_gestionnaire(acting_user)
    rule = PartnerRule.objects.select_for_update().get(pk=rule.pk)
    before = _rule_journal(rule)
    for name in ("document_type", "partner_kind", "partner", "mode", "transmit_at"):
        if name in fields:
            setattr(rule, name, fields[name])
    rule.updated_by = acting_user
    _rule_check(rule)
    rule.save()
    log(
        instance=rule,
        action="harmonia.partner_rule_updated",
        user=acting_user,
        data={"before": before, **_rule_journal(rule)},
    )
    return rule


@transaction.atomic
def partner_rule_delete(*, rule: PartnerRule, acting_user) -> None:
    _check_gestionnaire(acting_user)
    log(
        instance=rule,
        action="harmonia.partner_rule_deleted",
        user=acting_user,
        data=_rule_journal(rule),
        deleted=True,
    )
    PartnerRule.objects.filter(pk=rule.pk).delete()


# --- partners (gestionnaires) -----------------------------------------------------------------

MSG_NOT_GESTIONNAIRE = "L'administration des partenaires est réservée aux gestionnaires."
MSG_NAME_REQUIRED = "Nom : indiquez le nom du partenaire."
MSG_NAME_TAKEN = (
    "Nom : un partenaire s'appelle déjà « {name} » sur cette plateforme ; choisissez un autre "
    "nom (par exemple en ajoutant le département)."
)
MSG_UNKNOWN_KIND = (
    "Type : « {kind} » n'est pas un type de partenaire ; choisissez-le dans la liste."
)
MSG_NEEDS_DEPARTEMENT = (
    "Département : une préfecture ou une DDT(M) agit pour un département ; choisissez-le."
)
MSG_UNKNOWN_DEPARTEMENT = "Département « {code} » inconnu : indiquez un code comme 01, 2A ou 974."
MSG_NEEDS_REGION = "Région : une DREAL couvre une région ; choisissez-la dans la liste."
MSG_UNKNOWN_REGION = "Région « {region} » inconnue : choisissez-la dans la liste."
MSG_NEEDS_DEPARTEMENTS = (
    "Départements : une DREAL couvre des départements de sa région ; indiquez-en au moins un{hint}."
)
MSG_OUTSIDE_REGION = (
    "Départements : {codes} hors de la région {region} ; indiquez seulement des départements "
    "de la région ({own})."
)
MSG_NEEDS_FEDERATION = (
    "Fédération : choisissez la fédération dont ce partenaire lit les documents des adhérents."
)
MSG_KIND_HAS_RULES = (
    "Type : des règles de transmission nomment ce partenaire ({kind}) ; supprimez-les ou "
    "modifiez-les avant de changer son type."
)
PARTNER_FIELDS = ("kind", "name", "departement", "region", "departements", "federation")


def _check_partner_admin(user) -> None:
    if user.role != Role.GESTIONNAIRE:
        raise PermissionDenied(MSG_NOT_GESTIONNAIRE)


def _partner_clean(partner: Partner) -> None:
    """Refuse what does not make a partner (each message names its field); clear what its kind
    does not use (a CDC has no département)."""
    errors: dict[str, str] = {}
    partner.name = " ".join((partner.name or "").split())
    if not partner.name:
        errors["name"] = MSG_NAME_REQUIRED
    elif Partner.objects.filter(name__iexact=partner.name).exclude(pk=partner.pk).exists():
        errors["name"] = MSG_NAME_TAKEN.format(name=partner.name)
    kind = partner.kind
    if kind not in Partner.Kind.values:
        errors["kind"] = MSG_UNKNOWN_KIND.format(kind=kind)
    if kind in Partner.LOCAL_KINDS:
        if not partner.departement:
            errors["departement"] = MSG_NEEDS_DEPARTEMENT
        elif partner.departement not in DEPARTEMENTS:
            errors["departement"] = MSG_UNKNOWN_DEPARTEMENT.format(code=partner.departement)
    else:
        partner.departement = ""
    if kind == Partner.Kind.DREAL:
        codes = list(dict.fromkeys(partner.departements or []))
        own = REGIONS.get(partner.region)
        if not partner.region:
            errors["region"] = MSG_NEEDS_REGION
        elif own is None:
            errors["region"] = MSG_UNKNOWN_REGION.format(region=partner.region)
        if not codes:
            hint = f" (région {partner.region} : {', '.join(own)})" if own else ""
            errors["departements"] = MSG_NEEDS_DEPARTEMENTS.format(hint=hint)
        elif unknown := [c for c in codes if c not in DEPARTEMENTS]:
            errors["departements"] = MSG_UNKNOWN_DEPARTEMENT.format(code=", ".join(unknown))
        elif own is not None and (outside := [c for c in codes if c not in own]):
            errors["departements"] = MSG_OUTSIDE_REGION.format(
                codes=", ".join(outside), region=partner.region, own=", ".join(own)
            )
        else:
            codes.sort(key=DEPARTEMENTS.index)
        partner.departements = codes
    else:
        partner.region, partner.departements = "", []
    if kind == Partner.Kind.FEDERATION:
        if partner.federation not in dict(FEDERATION_CHOICES):
            errors["federation"] = MSG_NEEDS_FEDERATION
    else:
        partner.federation = ""
    if partner.pk and "kind" not in errors:
        named_as = PartnerRule.objects.filter(partner=partner).exclude(partner_kind=kind)
        if named_as.exists():
            errors["kind"] = MSG_KIND_HAS_RULES.format(
                kind=Partner.Kind(named_as.first().partner_kind).label
            )
    if errors:
        raise ValidationError(errors)


def _partner_journal(partner: Partner) -> dict:
    return {
        "name": partner.name,
        "kind": partner.kind,
        "departement": partner.departement,
        "region": partner.region,
        "departements": list(partner.departements),
        "federation": partner.federation,
        "is_active": partner.is_active,
    }


@transaction.atomic
def partner_create(
    *, kind: str, name: str, departement: str = "", region: str = "", departements=(),
    federation: str = "", acting_user,
) -> Partner:  # fmt: skip
    """A new partner (gestionnaires): it receives documents as soon as a rule names it or its
    kind; its users are created from its page."""
    _check_partner_admin(acting_user)
    partner = Partner(
        kind=kind,
        name=name,
        departement=departement or "",
        region=region or "",
        departements=list(departements or []),
        federation=federation or "",
    )
    _partner_clean(partner)
    partner.save()
    log(
        instance=partner,
        action="harmonia.partner_created",
        user=acting_user,
        data=_partner_journal(partner),
    )
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, acting_user, **fields) -> Partner:
    _check_partner_admin(acting_user)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    before = _partner_journal(partner)
    for name in PARTNER_FIELDS:
        if name in fields:
            setattr(partner, name, fields[name] if fields[name] is not None else "")
    _partner_clean(partner)
    partner.save()
    log(
        instance=partner,
        action="harmonia.partner_updated",
        user=acting_user,
        data={"before": before, **_partner_journal(partner)},
    )
    return partner


@transaction.atomic
def partner_set_active(*, partner: Partner, active: bool, acting_user) -> Partner:
    """Deactivate (or reactivate) a partner: deactivated, it receives nothing new, its users
    can no longer sign in (their sessions end) nor read what it was sent; what was sent
    stays, for when it is reactivated."""
    _check_partner_admin(acting_user)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.is_active == active:
        return partner
    partner.is_active = active
    partner.save(update_fields=["is_active"])
    log(
        instance=partner,
        action="harmonia.partner_activated" if active else "harmonia.partner_deactivated",
        user=acting_user,
        data=_partner_journal(partner),
    )
    return partner


# --- the organism's choices ------------------------------------------------------------------


@transaction.atomic
def partner_choices_save(*, organism, document_type, chosen_ids, acting_user) -> list[Partner]:
    """Tick the partners in ``chosen_ids`` and untick the others, among the partners left to
    this organism's choice for this document type. Returns the partners now chosen."""
    membership = getattr(acting_user, "membership", None)
    if (
        acting_user.role != Role.ORGANISME
        or membership is None
        or membership.organism_id != organism.pk
    ):
        raise PermissionDenied(MSG_NOT_YOUR_ORGANISM)
    chosen_ids = {int(pk) for pk in chosen_ids}
    choosable = {
        c.partner.pk: c.partner
        for c in partners_concerned(organism=organism, document_type=document_type)
        if c.rule.mode == PartnerRule.Mode.CHOICE
    }
    if refused := chosen_ids - set(choosable):
        names = Partner.objects.filter(pk__in=refused).values_list("name", flat=True)
        raise ValidationError(
            [MSG_NOT_A_CHOICE.format(partner=name) for name in names]
            or [MSG_NOT_A_CHOICE.format(partner="demandé")]
        )
    for pk, partner in choosable.items():
        PartnerChoice.objects.update_or_create(
            organism=organism,
            document_type=document_type,
            partner=partner,
            defaults={"chosen": pk in chosen_ids, "chosen_by": acting_user},
        )
    log(
        instance=organism,
        action="harmonia.partner_choices_saved",
        user=acting_user,
        data={
            "document_type": document_type.code,
            "chosen": sorted(p.name for pk, p in choosable.items() if pk in chosen_ids),
            "not_chosen": sorted(p.name for pk, p in choosable.items() if pk not in chosen_ids),
        },
    )
    return [choosable[pk] for pk in choosable if pk in chosen_ids]


# --- automatic transmissions ------------------------------------------------------------------


def _event_codes(change) -> set[str]:
    """The moments this lifecycle event reaches (:func:`partners.selectors.moment_codes`)."""
    return moment_codes(
        from_step=change.from_step,
        from_substep=change.from_substep,
        to_step=change.to_step,
        to_substep=change.to_substep,
    )


def latest_snapshots(dossier) -> list:
    """The documents frozen at the dossier's latest transmission (XML, PDF — the PDF may still
    be rendering), or [] if it was never transmitted."""

    frozen = DossierExport.objects.filter(dossier=dossier, step_change__isnull=False)
    latest = frozen.order_by("-step_change_id").values_list("step_change_id", flat=True).first()
    if latest is None:
        return []
    return list(frozen.filter(step_change_id=latest).order_by("kind", "pk"))


def partners_on_step_change(change) -> list[Transmission]:
    """Called by the lifecycle (inside its transaction) after each journal row: when the
    dossier reaches a step or sub-step a rule names, send the latest transmission's snapshots
    to every imposed partner and every chosen one (never forbidden or unchosen ones) and tell
    their users by e-mail. Nothing is sent for a dossier never transmitted, nor outside
    production (a test platform restored from production must not send partners anything)."""
    if not environment.is_production():
        logger.info(
            "automatic transmission skipped (%s): dossier %s",
            environment.current(),
            change.dossier_id,
        )
        return []
    codes = _event_codes(change)
    if not codes:
        return []
    dossier = change.dossier
    if dossier.trial:  # a draft version tried: never sent anywhere
        return []
    receivers = [
        r.partner
        for r in partners_receiving(
            organism=dossier.organism, document_type=dossier.document_type, codes=codes
        )
        if r.now
    ]
    if not receivers:
        return []
    snapshots = latest_snapshots(dossier)
    if not snapshots:
        return []
    source = snapshots[0]
    transmissions = []
    for partner in receivers:
        transmission, created = Transmission.objects.get_or_create(
            step_change=change,
            partner=partner,
            defaults={
                "dossier": dossier,
                "form_version": dossier.form_version,
                "values": source.frozen_values or {},
                "computed": source.frozen_computed or {},
                "step_label": dossier.step_label,
            },
        )
        if created:
            transmission.snapshots.set(snapshots)
            _notify(transmission)
            transmissions.append(transmission)
    return transmissions


def _notify(transmission: Transmission) -> None:
    """One e-mail per active user of the partner (addresses are not disclosed to each other)
    saying what was transmitted, with a link; the documents stay on the platform."""

    recipients = (
        User.objects.filter(
            role=Role.PARTENAIRE, is_active=True, membership__partner=transmission.partner
        )
        .exclude(email="")
        .order_by("pk")
    )
    if not recipients:
        return
    context = {
        "transmission": transmission,
        "dossier": transmission.dossier,
        "partner": transmission.partner,
        "platform": current_platform(),
        "url": absolute_url(reverse("partners:detail", args=[transmission.pk])),
        "sent_at": timezone.localtime(transmission.sent_at),
    }
    subject = " ".join(
        loader.render_to_string("partners/email/transmission_subject.txt", context).split()
    )
    for user in recipients:
        body = loader.render_to_string(
            "partners/email/transmission.txt", {**context, "recipient": user}
        )
        queue_email(subject=subject, body=body, to=[user.email])


# --- the access log --------------------------------------------------------------------------


def access_log_record(
    *, user, what: str, transmission=None, granted: bool = True, path: str = "", ip=None
) -> AccessLog:
    """Write one row of the partners' access log (every page a partner user opens)."""
    membership = getattr(user, "membership", None)
    return AccessLog.objects.create(
        user=user,
        username=user.get_username(),
        partner_id=membership.partner_id if membership else None,
        dossier_id=transmission.dossier_id if transmission else None,
        transmission=transmission,
        what=what,
        granted=granted,
        path=path[:500],
        ip=ip or None,
    )


def access_log_record_many(*, user, what: str, transmissions, path: str = "", ip=None) -> int:
    """One row of the partners' access log per transmission read at once (a bulk extraction
    downloaded): the gestionnaires see which dossiers the partner read, as for a page."""
    membership = getattr(user, "membership", None)
    rows = [
        AccessLog(
            user=user,
            username=user.get_username(),
            partner_id=membership.partner_id if membership else None,
            dossier_id=t.dossier_id,
            transmission=t,
            what=what,
            path=path[:500],
            ip=ip or None,
        )
        for t in transmissions
    ]
    AccessLog.objects.bulk_create(rows, batch_size=500)
    return len(rows)


# --- reads above a partner user's usual rate (security supervision) ---------------------------

READS_RECENT = timedelta(hours=1)
READS_BASELINE = timedelta(days=28)


def partner_reads_unusual_record(*, now=None) -> list[tuple[str, int, float]]:
    """Record a security event for each partner user of this platform whose reads in the last
    hour reach ``HARMONIA_PARTNER_READS_MIN`` and exceed ``HARMONIA_PARTNER_READS_FACTOR``
    times their usual hourly rate (their reads of the 28 days before, per hour); one event
    per user per hour (none if the last hour already has one). Returns (username, reads in the
    last hour, usual per hour) of each event recorded. Run by the operator's periodic job in
    each platform's schema."""
    now = now or timezone.now()
    since = now - READS_RECENT
    rows = (
        AccessLog.objects.filter(at__gt=now - READS_RECENT - READS_BASELINE, at__lte=now)
        .values("username")
        .annotate(
            recent=Count("id", filter=Q(at__gt=since)),
            before=Count("id", filter=Q(at__lte=since)),
            partner=Max("partner__name"),
        )
        .filter(recent__gte=settings.HARMONIA_PARTNER_READS_MIN)
        .order_by("username")
    )
    hours = READS_BASELINE / timedelta(hours=1)
    recorded = []
    platform = connection.schema_name
    already = set(
        SecurityEvent.objects.filter(
            kind=SecurityEvent.Kind.PARTNER_READS, platform=platform, occurred_at__gt=since
        ).values_list("username", flat=True)
    )
    for row in rows:
        usual = row["before"] / hours
        if row["recent"] <= settings.HARMONIA_PARTNER_READS_FACTOR * usual:
            continue
        if row["username"] in already:
            continue
        usual_fr = f"{usual:.1f}".replace(".", ",")
        security_event_record(
            SecurityEvent.Kind.PARTNER_READS,
            username=row["username"],
            ip="",
            detail=(
                f"{row['recent']} consultations en une heure (habituellement {usual_fr} par "
                f"heure) — partenaire {row['partner'] or 'inconnu'}."
            ),
        )
        recorded.append((row["username"], row["recent"], usual))
    return recorded
